#pragma once
// Prometheus metrics: counters and histograms with labels that the code updates, and gauges
// read when scraped. Render() writes the text exposition format (version 0.0.4) with HELP and
// TYPE lines. No I/O; thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"

namespace jit {

// Label values in the order of the family's label names.
using LabelValues = std::vector<std::string>;

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Declares a family. Names follow Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*); declaring a
  // name twice, or with other labels, is a programming error (JIT_CHECK).
  void DeclareCounter(std::string name, std::string help, std::vector<std::string> labels = {});
  // Histogram buckets are upper bounds in increasing order (+Inf is added).
  void DeclareHistogram(std::string name, std::string help, std::vector<double> buckets,
                        std::vector<std::string> labels = {});
  // A gauge whose samples `read` gives at scrape time: label values -> value.
  void DeclareGauge(std::string name, std::string help, std::vector<std::string> labels,
                    std::function<std::map<LabelValues, double>()> read);
  // A counter kept elsewhere (e.g. atomics of a server), whose samples `read` gives at scrape
  // time; they must never decrease. Add() on it is a programming error.
  void DeclareCounterFunc(std::string name, std::string help, std::vector<std::string> labels,
                          std::function<std::map<LabelValues, double>()> read);

  // Adds `by` (>= 0) to a counter. REQUIRES: declared, with as many values as labels. Adding 0
  // makes the sample exist (served as 0) without counting anything.
  void Add(std::string_view name, const LabelValues& labels = {}, double by = 1);
  // Records one observation in a histogram.
  void Observe(std::string_view name, double value, const LabelValues& labels = {});

  // The current value of a counter sample (0 when never added; not for DeclareCounterFunc); for
  // tests.
  double CounterValue(std::string_view name, const LabelValues& labels = {}) const;
  // The number of observations of a histogram sample; for tests.
  std::uint64_t HistogramCount(std::string_view name, const LabelValues& labels = {}) const;

  // The text exposition of every family, in declaration order. Calls the gauges' and counter
  // funcs' readers without holding the registry's lock.
  std::string Render() const;

 private:
  enum class Kind { kCounter, kHistogram, kGauge };
  struct HistogramSample {
    std::vector<std::uint64_t> counts;  // per bucket, not cumulative; one more for +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  struct Family {
    std::string name;
    std::string help;
    Kind kind = Kind::kCounter;
    std::vector<std::string> labels;
    std::vector<double> buckets;
    std::map<LabelValues, double> counters;
    std::map<LabelValues, HistogramSample> histograms;
    std::function<std::map<LabelValues, double>()> read;
  };

  Family& Declare(std::string name, std::string help, Kind kind, std::vector<std::string> labels)
      REQUIRES(mu_);
  Family* Find(std::string_view name) REQUIRES(mu_);
  const Family* Find(std::string_view name) const REQUIRES(mu_);

  mutable Mutex mu_;
  std::vector<std::unique_ptr<Family>> families_ GUARDED_BY(mu_);
};

}  // namespace jit
