// Fuzzes the request codec's reader (store/codec.h): DecodeRequestData on arbitrary text, as a
// damaged or hand-edited `data` column would give it.
//
// What must hold (a violation aborts): nothing throws or crashes; when the fast reader accepts
// the text, the JSON document decoder accepts it too and both give the same request (compared
// through EncodeRequestData); DecodeRequestData always answers as the document decoder does.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/result.h"
#include "model/request.h"
#include "store/codec.h"

namespace {

[[noreturn]] void Fail(const char* why, std::string_view input) {
  (void)std::fprintf(stderr, "request_codec_fuzzer: %s\n%.*s\n", why,
                     static_cast<int>(input.size()), input.data());
  std::abort();
}

std::string Encoded(const jit::model::Request& r, std::string_view input) {
  jit::Result<std::string> text = jit::store::EncodeRequestData(r);
  if (!text.has_value()) Fail("a decoded request does not encode", input);
  return *text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  jit::model::Request fast;
  jit::model::Request dom;
  jit::model::Request via;
  const bool fast_ok = jit::store::TryDecodeRequestDataFast(input, fast);
  const bool dom_ok = jit::store::DecodeRequestDataWithDom(input, dom).ok();
  const bool via_ok = jit::store::DecodeRequestData(input, via).ok();
  if (via_ok != dom_ok) Fail("DecodeRequestData and the document decoder disagree", input);
  if (fast_ok) {
    if (!dom_ok) Fail("the fast reader accepted what the document decoder refuses", input);
    if (Encoded(fast, input) != Encoded(dom, input)) {
      Fail("the fast reader and the document decoder read different requests", input);
    }
  }
  if (via_ok && Encoded(via, input) != Encoded(dom, input)) {
    Fail("DecodeRequestData read another request than the document decoder", input);
  }
  return 0;
}
