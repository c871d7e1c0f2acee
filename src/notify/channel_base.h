#pragma once
// What every channel has: a name, a filter and a time-out for its one attempt.

#include <string>
#include <utility>

#include "notify/notify.h"

namespace jit::notify {

struct ChannelSettings {
  std::string name;
  Filter filter;
  Duration timeout{Duration(10 * 1000)};
};

// Implements name() and Wants() from ChannelSettings.
class BasicChannel : public Channel {
 public:
  explicit BasicChannel(ChannelSettings settings) : settings_(std::move(settings)) {}
  const std::string& name() const override { return settings_.name; }
  bool Wants(const Message& m) const override {
    return settings_.filter.Matches(m.event) && settings_.filter.Routes(m.request);
  }

 protected:
  const ChannelSettings& settings() const { return settings_; }
  Duration timeout() const { return settings_.timeout; }

 private:
  const ChannelSettings settings_;
};

}  // namespace jit::notify
