// Removes secret values from anything the hub records or logs.
#pragma once

#include <string>
#include <vector>

#include <cartwire/sdk/http.hpp>
#include <cartwire/sdk/json.hpp>

namespace cartwire::plugins {

class Redactor {
 public:
  static constexpr const char *kMask = "[redacted]";

  /** Remember a secret value; values shorter than 4 characters are ignored (they would mask common text). */
  void add(const std::string &secret);
  /** Every occurrence of every secret replaced by the mask. */
  std::string apply(std::string text) const;
  /** Header values of credential-bearing headers masked, then apply() on the rest. */
  sdk::Headers headers(const sdk::Headers &headers) const;
  bool empty() const { return secrets_.empty(); }

 private:
  std::vector<std::string> secrets_;
};

/** Headers whose value is a credential whatever it is (authorization, *token*, *api-key*, ...). */
bool is_credential_header(const std::string &lower_name);

}  // namespace cartwire::plugins
