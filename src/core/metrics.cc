#include "core/metrics.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <utility>

#include "core/check.h"
#include "core/mutex.h"

namespace jit {
namespace {

bool IsMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Label values and HELP text escape backslash, newline and (values only) the double quote.
std::string Escape(std::string_view s, bool quote) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  std::array<char, 32> buf{};
  (void)std::snprintf(buf.data(), buf.size(), "%.9g", v);
  return buf.data();
}

// {a="x",b="y"} with `extra` (already formatted, e.g. le="0.5") last; "" when empty.
std::string Labels(const std::vector<std::string>& names, const LabelValues& values,
                   const std::string& extra = "") {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += names[i] + "=\"" + Escape(values[i], true) + "\"";
  }
  if (!extra.empty()) out += (out.empty() ? "{" : ",") + extra;
  if (!out.empty()) out += "}";
  return out;
}

}  // namespace

MetricsRegistry::Family& MetricsRegistry::Declare(std::string name, std::string help, Kind kind,
                                                  std::vector<std::string> labels) {
  JIT_CHECK(IsMetricName(name));
  for (const std::string& l : labels) JIT_CHECK(IsMetricName(l) && l != "le");
  JIT_CHECK(Find(name) == nullptr);
  auto f = std::make_unique<Family>();
  f->name = std::move(name);
  f->help = std::move(help);
  f->kind = kind;
  f->labels = std::move(labels);
  families_.push_back(std::move(f));
  return *families_.back();
}

MetricsRegistry::Family* MetricsRegistry::Find(std::string_view name) {
  for (auto& f : families_) {
    if (f->name == name) return f.get();
  }
  return nullptr;
}

const MetricsRegistry::Family* MetricsRegistry::Find(std::string_view name) const {
  for (const auto& f : families_) {
    if (f->name == name) return f.get();
  }
  return nullptr;
}

void MetricsRegistry::DeclareCounter(std::string name, std::string help,
                                     std::vector<std::string> labels) {
  MutexLock lock(&mu_);
  Declare(std::move(name), std::move(help), Kind::kCounter, std::move(labels));
}

void MetricsRegistry::DeclareHistogram(std::string name, std::string help,
                                       std::vector<double> buckets,
                                       std::vector<std::string> labels) {
  for (std::size_t i = 1; i < buckets.size(); ++i) JIT_CHECK(buckets[i - 1] < buckets[i]);
  MutexLock lock(&mu_);
  Family& f = Declare(std::move(name), std::move(help), Kind::kHistogram, std::move(labels));
  f.buckets = std::move(buckets);
}

void MetricsRegistry::DeclareGauge(std::string name, std::string help,
                                   std::vector<std::string> labels,
                                   std::function<std::map<LabelValues, double>()> read) {
  MutexLock lock(&mu_);
  Family& f = Declare(std::move(name), std::move(help), Kind::kGauge, std::move(labels));
  f.read = std::move(read);
}

void MetricsRegistry::DeclareCounterFunc(std::string name, std::string help,
                                         std::vector<std::string> labels,
                                         std::function<std::map<LabelValues, double>()> read) {
  JIT_CHECK(read != nullptr);
  MutexLock lock(&mu_);
  Family& f = Declare(std::move(name), std::move(help), Kind::kCounter, std::move(labels));
  f.read = std::move(read);
}

void MetricsRegistry::Add(std::string_view name, const LabelValues& labels, double by) {
  MutexLock lock(&mu_);
  Family* f = Find(name);
  JIT_CHECK(f != nullptr && f->kind == Kind::kCounter && f->read == nullptr &&
            labels.size() == f->labels.size());
  if (by >= 0) f->counters[labels] += by;
}

void MetricsRegistry::Observe(std::string_view name, double value, const LabelValues& labels) {
  MutexLock lock(&mu_);
  Family* f = Find(name);
  JIT_CHECK(f != nullptr && f->kind == Kind::kHistogram && labels.size() == f->labels.size());
  HistogramSample& h = f->histograms[labels];
  if (h.counts.empty()) h.counts.assign(f->buckets.size() + 1, 0);
  std::size_t i = 0;
  while (i < f->buckets.size() && value > f->buckets[i]) ++i;
  ++h.counts[i];
  h.sum += value;
  ++h.count;
}

double MetricsRegistry::CounterValue(std::string_view name, const LabelValues& labels) const {
  MutexLock lock(&mu_);
  const Family* f = Find(name);
  if (f == nullptr) return 0;
  auto it = f->counters.find(labels);
  return it == f->counters.end() ? 0 : it->second;
}

std::uint64_t MetricsRegistry::HistogramCount(std::string_view name,
                                              const LabelValues& labels) const {
  MutexLock lock(&mu_);
  const Family* f = Find(name);
  if (f == nullptr) return 0;
  auto it = f->histograms.find(labels);
  return it == f->histograms.end() ? 0 : it->second.count;
}

std::string MetricsRegistry::Render() const {
  // Gauges and counter funcs are read without the lock: their readers may take locks of their
  // own.
  std::vector<std::pair<const Family*, std::function<std::map<LabelValues, double>()>>> readers;
  {
    MutexLock lock(&mu_);
    for (const auto& f : families_) {
      if (f->kind == Kind::kGauge || f->read) readers.emplace_back(f.get(), f->read);
    }
  }
  std::map<const Family*, std::map<LabelValues, double>> read_values;
  for (auto& [f, read] : readers) read_values[f] = read ? read() : std::map<LabelValues, double>{};

  MutexLock lock(&mu_);
  std::string out;
  for (const auto& fp : families_) {
    const Family& f = *fp;
    const char* type = f.kind == Kind::kCounter     ? "counter"
                       : f.kind == Kind::kHistogram ? "histogram"
                                                    : "gauge";
    out += "# HELP " + f.name + " " + Escape(f.help, false) + "\n";
    out += "# TYPE " + f.name + " " + type + "\n";
    switch (f.kind) {
      case Kind::kCounter: {
        const std::map<LabelValues, double>& values = f.read ? read_values[&f] : f.counters;
        if (values.empty() && f.labels.empty()) out += f.name + " 0\n";
        for (const auto& [labels, value] : values) {
          out += f.name + Labels(f.labels, labels) + " " + Number(value) + "\n";
        }
        break;
      }
      case Kind::kGauge:
        for (const auto& [labels, value] : read_values[&f]) {
          out += f.name + Labels(f.labels, labels) + " " + Number(value) + "\n";
        }
        break;
      case Kind::kHistogram: {
        auto write = [&](const LabelValues& labels, const HistogramSample& h) {
          std::uint64_t cumulative = 0;
          for (std::size_t i = 0; i <= f.buckets.size(); ++i) {
            cumulative += h.counts.empty() ? 0 : h.counts[i];
            std::string le = i < f.buckets.size() ? Number(f.buckets[i]) : "+Inf";
            out += f.name + "_bucket" + Labels(f.labels, labels, "le=\"" + le + "\"") + " " +
                   std::to_string(cumulative) + "\n";
          }
          out += f.name + "_sum" + Labels(f.labels, labels) + " " + Number(h.sum) + "\n";
          out +=
              f.name + "_count" + Labels(f.labels, labels) + " " + std::to_string(h.count) + "\n";
        };
        if (f.histograms.empty() && f.labels.empty()) write({}, HistogramSample{});
        for (const auto& [labels, h] : f.histograms) write(labels, h);
        break;
      }
    }
  }
  return out;
}

}  // namespace jit
