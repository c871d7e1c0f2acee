#pragma once
// STS AssumeRole and CloudTrail LookupEvents as the emulator stands in for them (issue 17,
// session activity): the broker assumes a read-only role in a member account and reads the
// CloudTrail events of its users' role sessions there. Internal to jit_emulator; signatures
// are checked by the caller (emulator.cc), which asks Issued() for the secret of a temporary
// key.
//
// Wire contract (docs/AWS.md "What jit does on the wire"):
// - AssumeRole: query protocol (signing name `sts`, Version 2011-06-15), signed with the
//   emulator's own key. RoleArn arn:aws:iam::<12 digits>:role/<name> (else ValidationError);
//   an account that is not one of the seed's is AccessDenied (403); RoleSessionName 2..64
//   characters of [\w+=,.@-]; DurationSeconds 900..43200 (default 3600). The answer carries
//   Credentials (AccessKeyId ASIA..., SecretAccessKey, SessionToken, Expiration) and
//   AssumedRoleUser (Arn arn:aws:sts::<account>:assumed-role/<name>/<session>, AssumedRoleId).
// - The temporary key signs calls with X-Amz-Security-Token; it is good for that account only:
//   LookupEvents answers that account's events, GetCallerIdentity names the assumed role, and
//   every other service refuses it. After its Expiration it is ExpiredTokenException.
// - LookupEvents: awsJson 1.1, X-Amz-Target
//   com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents (botocore) or
//   CloudTrail_20131101.LookupEvents (the JavaScript SDK v3), signing name `cloudtrail`.
//   LookupAttributes (at most one {AttributeKey, AttributeValue}; keys EventId, EventName,
//   ReadOnly, Username, ResourceType, ResourceName, EventSource, AccessKeyId), StartTime/EndTime
//   (epoch seconds; default the last 90 days up to now; both inclusive), MaxResults 1..50 (default
//   50), NextToken (bound to the other inputs). Events newest first: {EventId, EventName, ReadOnly
//   ("true"/"false"), AccessKeyId, EventTime (epoch seconds), EventSource, Username, Resources
//   [{ResourceType, ResourceName}], CloudTrailEvent (the record as JSON text: userIdentity.type
//   AssumedRole, userIdentity.arn arn:aws:sts::<account>:assumed-role/AWSReservedSSO_<permission
//   set>_<16 hex>/<user>, errorCode when it failed, recipientAccountId)}. Errors (400):
//   InvalidLookupAttributes Exception, InvalidTimeRangeException, InvalidMaxResultsException,
//   InvalidNextToken Exception; faults answer ThrottlingException (400) and InternalServerException
//   (500).

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/result.h"
#include "emulator/emulator.h"
#include "emulator/notify_services.h"

namespace jit::emulator {

// One CloudTrail event of an Identity Center user's role session.
struct CloudTrailEvent {
  std::string event_id;        // a UUID
  std::string account_id;      // where it was recorded (recipientAccountId)
  std::string region;          // awsRegion; "" = the emulator's region
  std::string user_name;       // the role session's name (Username)
  std::string permission_set;  // the permission set's name (its AWSReservedSSO_ role)
  std::string event_name;      // "ListBuckets"
  std::string event_source;    // "s3.amazonaws.com"
  Time event_time;
  bool read_only = true;
  std::string error_code;                                      // "" when it succeeded
  std::string access_key_id;                                   // the session's key (ASIA...)
  std::vector<std::pair<std::string, std::string>> resources;  // (type, name)
};

// The role an Identity Center permission set becomes in an account:
// AWSReservedSSO_<name>_<16 hex> (the suffix derived from the account and the name, as stable
// as AWS's).
std::string ReservedSsoRoleName(std::string_view account_id, std::string_view permission_set);

// Events from JSON, as the seed's "cloudtrail_events" and POST /_emulator/cloudtrail/events
// give them: an array of {"account_id" (one of `accounts`), "user_name", "permission_set",
// "event_name", "event_source", "event_time" (RFC 3339), "read_only" (default true),
// "error_code", "event_id" (a UUID; default one derived from the event), "access_key_id",
// "region", "resources": [{"type", "name"}]}; at most 10,000. InvalidArgument naming the first
// bad member (`where` prefixes it), unknown members included.
Result<std::vector<CloudTrailEvent>> ParseCloudTrailEvents(const nlohmann::json& events,
                                                           const std::set<std::string>& accounts,
                                                           const std::string& where);

// Thread-safe.
class CloudTrailService {
 public:
  // REQUIRES: seed.Validate() is ok. `clock` must outlive this.
  CloudTrailService(const Seed& seed, std::string region, Clock& clock);

  // A temporary key AssumeRole issued.
  struct IssuedKey {
    std::string secret_access_key;
    std::string session_token;
    std::string account_id;        // the account it is good for
    std::string assumed_role_arn;  // arn:aws:sts::<account>:assumed-role/<role>/<session>
    Time expires;
  };
  // The key's record, or nullopt when AssumeRole never issued it (or it was forgotten: the
  // last 10,000 are kept).
  std::optional<IssuedKey> Issued(std::string_view access_key_id) const;

  // STS Action=AssumeRole (form parameters), called with the emulator's own key.
  WireResponse AssumeRole(const std::map<std::string, std::string>& params);
  // STS GetCallerIdentity for a temporary key.
  WireResponse CallerIdentity(const IssuedKey& key) const;
  // LookupEvents in `account_id` (the caller's account), body parsed already.
  WireResponse LookupEvents(const std::string& account_id, const nlohmann::json& input);

  // POST /_emulator/cloudtrail/events: {"events": [...]} -> the ids added; InvalidArgument for
  // a bad body (nothing is added then).
  Result<std::vector<std::string>> AddEvents(const nlohmann::json& body);
  // DELETE /_emulator/cloudtrail/events: forgets every event (the seed's too, until Reset).
  void ClearEvents();
  // Records the event of a call made with a role session (POST /_emulator/sessions/{id}/calls):
  // "s3:ListBuckets" becomes EventSource s3.amazonaws.com, EventName ListBuckets, read-only when
  // the name starts with Get, List, Describe, Head or Lookup; a denied call has errorCode
  // AccessDenied. The oldest event goes when 10,000 are kept.
  void RecordSessionCall(const std::string& user_name, const std::string& account_id,
                         const std::string& permission_set, const std::string& action,
                         const std::string& region, Time at, bool allowed);

  void SetFaults(const Faults& faults);
  // The seed's events back; issued keys, counts and faults forgotten.
  void Reset();
  // {"cloudtrail_events": n, "assumed_roles": [{"access_key_id", "account_id",
  //  "assumed_role_arn", "expiration"}] (oldest first)}.
  nlohmann::json State() const;

 private:
  int FaultLocked() REQUIRES(mu_);  // 0 none, 1 throttle, 2 server error
  void ResetLocked() REQUIRES(mu_);

  std::vector<CloudTrailEvent> seed_events_;
  std::set<std::string> accounts_;
  std::string owner_account_;
  const std::string region_;
  Clock& clock_;

  mutable Mutex mu_;
  Faults faults_ GUARDED_BY(mu_);
  std::uint64_t rng_state_ GUARDED_BY(mu_) = 1;
  std::vector<CloudTrailEvent> events_ GUARDED_BY(mu_);
  std::map<std::string, IssuedKey> issued_ GUARDED_BY(mu_);  // by access key id
  std::deque<std::string> issued_order_ GUARDED_BY(mu_);     // oldest first
};

}  // namespace jit::emulator
