#pragma once
// Byte <-> text encodings: Base64 and Base64url (RFC 4648 §4 and §5) and hex. The decoders are
// strict, so that one text stands for one byte string only.

#include <optional>
#include <string>
#include <string_view>

namespace jit {

// Base64 with the standard alphabet and '=' padding (RFC 4648 §4).
std::string EncodeBase64(std::string_view bytes);
// The bytes of padded Base64: the length a multiple of 4, '=' only as the last one or two
// characters, the bits after the last byte zero; no white space. Nullopt otherwise.
std::optional<std::string> DecodeBase64(std::string_view text);

// Base64url (RFC 4648 §5) without padding, as JOSE uses it.
std::string EncodeBase64Url(std::string_view bytes);
// The bytes of unpadded Base64url, strictly: only the URL-safe alphabet, no '=', no white
// space, no impossible length (4n+1), the bits after the last byte zero. Nullopt otherwise.
std::optional<std::string> DecodeBase64Url(std::string_view text);

// Lowercase hex, two digits a byte.
std::string Hex(std::string_view bytes);
// The value of a hex digit (either case), or -1.
int HexDigitValue(char c);
// The bytes of hex text (either case); nullopt for an odd length or a non-hex character.
std::optional<std::string> DecodeHex(std::string_view hex);
// True when `s` holds only the digits 0-9 and a-f.
bool IsLowerHex(std::string_view s);

}  // namespace jit
