// Problems found in configuration, each tied to a file and line.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace cartwire::config {

struct Location {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown
};

struct Diagnostic {
  enum class Severity { error, warning };
  Severity severity = Severity::error;
  Location where;
  std::string message;

  /** "hub.yaml:12: error: unknown action 'enrol' ..." */
  std::string format() const {
    std::string out = where.file;
    if (where.line > 0) out += ":" + std::to_string(where.line);
    out += severity == Severity::error ? ": error: " : ": warning: ";
    return out + message;
  }
};

class Diagnostics {
 public:
  void error(const Location &where, std::string message) {
    items_.push_back({Diagnostic::Severity::error, where, std::move(message)});
  }
  void warning(const Location &where, std::string message) {
    items_.push_back({Diagnostic::Severity::warning, where, std::move(message)});
  }
  bool has_errors() const { return errors() > 0; }
  std::size_t errors() const {
    std::size_t n = 0;
    for (auto &d : items_) n += d.severity == Diagnostic::Severity::error;
    return n;
  }
  const std::vector<Diagnostic> &items() const { return items_; }
  void append(const Diagnostics &other) { items_.insert(items_.end(), other.items_.begin(), other.items_.end()); }
  std::string format() const {
    std::string out;
    for (auto &d : items_) out += d.format() + "\n";
    return out;
  }

 private:
  std::vector<Diagnostic> items_;
};

/** Thrown when a configuration cannot be used; carries every problem found. */
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(Diagnostics diagnostics)
      : std::runtime_error(diagnostics.format()), diagnostics_(std::move(diagnostics)) {}
  const Diagnostics &diagnostics() const { return diagnostics_; }

 private:
  Diagnostics diagnostics_;
};

}  // namespace cartwire::config
