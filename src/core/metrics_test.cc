#include "core/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace jit {
namespace {

using ::testing::HasSubstr;

TEST(Metrics, RendersCountersWithHelpTypeAndEscapedLabels) {
  MetricsRegistry m;
  m.DeclareCounter("jit_things_total", "Things, counted.\nSecond line", {"kind", "where"});
  m.Add("jit_things_total", {"a", "x"});
  m.Add("jit_things_total", {"a", "x"}, 2);
  m.Add("jit_things_total", {"b\"q", "back\\slash\nnl"});
  EXPECT_EQ(m.CounterValue("jit_things_total", {"a", "x"}), 3);
  EXPECT_EQ(m.Render(),
            "# HELP jit_things_total Things, counted.\\nSecond line\n"
            "# TYPE jit_things_total counter\n"
            "jit_things_total{kind=\"a\",where=\"x\"} 3\n"
            "jit_things_total{kind=\"b\\\"q\",where=\"back\\\\slash\\nnl\"} 1\n");
}

TEST(Metrics, UnlabelledFamiliesShowZeroBeforeAnything) {
  MetricsRegistry m;
  m.DeclareCounter("jit_c_total", "C.");
  m.DeclareHistogram("jit_h_seconds", "H.", {1, 2});
  EXPECT_THAT(m.Render(), HasSubstr("jit_c_total 0\n"));
  EXPECT_THAT(m.Render(), HasSubstr("jit_h_seconds_bucket{le=\"+Inf\"} 0\n"));
  EXPECT_THAT(m.Render(), HasSubstr("jit_h_seconds_count 0\n"));
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  MetricsRegistry m;
  m.DeclareHistogram("jit_lag_seconds", "Lag.", {0.5, 1, 5});
  for (double v : {0.1, 0.5, 0.7, 3.0, 100.0}) m.Observe("jit_lag_seconds", v);
  std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE jit_lag_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("jit_lag_seconds_bucket{le=\"0.5\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("jit_lag_seconds_bucket{le=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("jit_lag_seconds_bucket{le=\"5\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("jit_lag_seconds_bucket{le=\"+Inf\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("jit_lag_seconds_sum 104.3\n"));
  EXPECT_THAT(text, HasSubstr("jit_lag_seconds_count 5\n"));
  EXPECT_EQ(m.HistogramCount("jit_lag_seconds"), 5u);
}

TEST(Metrics, GaugesAreReadWhenScraped) {
  MetricsRegistry m;
  int reads = 0;
  m.DeclareGauge("jit_pending", "Pending.", {"kind"}, [&reads] {
    ++reads;
    return std::map<LabelValues, double>{{{"grant"}, 2}, {{"revoke"}, 0.5}};
  });
  std::string text = m.Render();
  EXPECT_EQ(reads, 1);
  EXPECT_THAT(text, HasSubstr("# TYPE jit_pending gauge\n"));
  EXPECT_THAT(text, HasSubstr("jit_pending{kind=\"grant\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("jit_pending{kind=\"revoke\"} 0.5\n"));
}

TEST(Metrics, CounterFuncsAreReadWhenScraped) {
  MetricsRegistry m;
  double refused = 0;
  m.DeclareCounterFunc("jit_refused_total", "Refused.", {}, [&refused] {
    return std::map<LabelValues, double>{{{}, refused}};
  });
  refused = 3;
  std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE jit_refused_total counter\n"));
  EXPECT_THAT(text, HasSubstr("\njit_refused_total 3\n"));
}

TEST(Metrics, ConcurrentUpdatesAllCount) {
  MetricsRegistry m;
  m.DeclareCounter("jit_n_total", "N.", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 1000; ++i) m.Add("jit_n_total", {"x"});
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(m.CounterValue("jit_n_total", {"x"}), 4000);
}

TEST(MetricsDeathTest, WrongLabelCountIsAProgrammingError) {
  MetricsRegistry m;
  m.DeclareCounter("jit_x_total", "X.", {"a"});
  EXPECT_DEATH(m.Add("jit_x_total", {}), "");
  EXPECT_DEATH(m.DeclareCounter("jit_x_total", "again"), "");
  EXPECT_DEATH(m.DeclareCounter("bad name", "x"), "");
}

TEST(MetricsDeathTest, AddingToACounterFuncIsAProgrammingError) {
  MetricsRegistry m;
  m.DeclareCounterFunc("jit_y_total", "Y.", {}, [] { return std::map<LabelValues, double>{}; });
  EXPECT_DEATH(m.Add("jit_y_total"), "");
}

TEST(Metrics, AddingZeroServesTheSampleAtZero) {
  MetricsRegistry m;
  m.DeclareCounter("jit_zero_total", "Nothing yet.", {"outcome"});
  EXPECT_EQ(m.Render().find("jit_zero_total{"), std::string::npos);
  m.Add("jit_zero_total", {"failed"}, 0);
  EXPECT_NE(m.Render().find("jit_zero_total{outcome=\"failed\"} 0"), std::string::npos);
}

}  // namespace
}  // namespace jit
