// A note that a fatal signal leaves behind while the hub works on something
// in particular: what it was doing (which job, which webhook or poll), and
// whether inside a connector or in the hub's own code, so that the next start
// can say so and not run that job again, to die again.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "store/group_commit.hpp"

namespace cartwire::plugins::crash_note {

/** Whose code a thread runs while an Inside names what it works on. */
enum class Code { connector, hub };

/**
 * Marks this thread as working on what it names, for as long as it lives: in
 * a connector's code, or in the hub's own (a job from its claim to its record,
 * a webhook from its parse to its store). A fatal signal meanwhile writes it
 * to the note; the innermost one says whose code it was. The strings must
 * outlive it. Costs a clock read and two thread-local stores.
 */
class Inside {
 public:
  /**
   * `instance`: the source or integration (a job's integration).
   * `job`: the job whose attempt this is, 0 for none (a webhook, a poll, a list).
   * `request`: the bytes being handled (a webhook's body), whose fingerprint the
   * note keeps, so that the same request can be refused after the restart.
   */
  Inside(const std::string &instance, const char *operation, const std::string &detail, int64_t job,
         const std::string *request = nullptr, Code code = Code::connector) noexcept;
  /**
   * Marks this thread as recording the attempts of several jobs together, in
   * the hub's own code: a fatal signal meanwhile names them all.
   */
  explicit Inside(const std::vector<int64_t> &jobs) noexcept;
  /**
   * Marks this thread as claiming job `job`, in the hub's own code: reading
   * its row or leasing it, after it had made `attempts` attempts.
   */
  Inside(int64_t job, int attempts) noexcept;
  ~Inside();
  Inside(const Inside &) = delete;
  Inside &operator=(const Inside &) = delete;

  const std::string &instance;
  const char *operation;
  const std::string &detail;
  int64_t job;
  const std::string *request;
  /** The jobs recorded together; null for one job's work, or none's. */
  const std::vector<int64_t> *jobs = nullptr;
  Code code;
  /** A claimed job's attempts as the claim found it; -1 for other work. */
  int attempts = -1;
  int64_t started_ms;
  Inside *outer;
};

/**
 * The Insides of this process as a store's shared commit sees them: a thread
 * that does another's work there does it under that thread's innermost
 * Inside, so that a fatal signal in it names what that thread works on.
 */
store::WorkMarks &work_marks();

/** What a note says. */
struct Note {
  int signal = 0;
  int64_t job = 0;
  /** The jobs whose attempts were being recorded together (operation "record"); empty otherwise. */
  std::vector<int64_t> jobs;
  std::string instance, operation, detail;
  int64_t started_ms = 0, ended_ms = 0;
  /** In the hub's own code, not in a connector's. */
  bool in_hub = false;
  /** The node whose process wrote it; "" in a note written before nodes were named in notes. */
  std::string node;
  /** fingerprint() of the request being handled; "" when there was none, or it could not be read. */
  std::string request;
  /** A claim's (operation "claim"): the attempts its job had made; -1 for other work. */
  int attempts = -1;
};

/** A request's fingerprint: its length and 64-bit FNV-1a hash, as text. */
std::string fingerprint(std::string_view request);

/**
 * The notes at `path`: those the last start kept (it could not act on them),
 * then that of the last process armed there, if it died while an Inside
 * named what it did.
 */
std::vector<Note> read(const std::string &path);

/**
 * Empties the note at `path` but for `keep` (the notes a start could not act
 * on, left for the next) and arms this process, node `node`, to write its own after them: SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL and SIGABRT on a thread an Inside names the work of
 * (in a connector or in the hub's own code) write the note (and a line on
 * stderr) before the process ends as it would have. Throws
 * std::runtime_error when the file cannot be written.
 */
void arm(const std::string &path, const std::string &node, const std::vector<Note> &keep = {});

/**
 * An instance whose creation stopped the last run is not created again, with
 * these settings (their JSON text), in this process: its creation throws
 * `why`. So the hub starts, without it, instead of stopping at each start.
 */
void refuse_creating(const std::string &instance, const std::string &settings, const std::string &why);
/** Why `instance` is not to be created with `settings`; "" when it may be. */
std::string refusal(const std::string &instance, const std::string &settings);
/** Lets `instance` be created again whatever its settings; true when refuse_creating() had named it. */
bool allow_creating(const std::string &instance);
/**
 * Notes that this node also recorded the mark in the store of a poll source
 * that refuse_creating() names (Store::leave_out_poll), for the other nodes:
 * its poller looks at that mark, for another node may end it.
 */
void marked_in_store(const std::string &instance);
/** Whether `instance` is refused with `settings` and marked in the store by this node (marked_in_store()). */
bool refused_and_marked(const std::string &instance, const std::string &settings);
/** What creating an instance that refusal() names throws: no fault of its settings. */
class Refused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/**
 * A webhook whose handling stopped the last run is refused, in this process,
 * when `instance` gets a request of this fingerprint again: webhook_refusal()
 * then says `why`. So a sender that sends it again does not stop the hub again.
 */
void refuse_webhook(const std::string &instance, const std::string &fingerprint, const std::string &why);
/** Why `instance` refuses a webhook of this body; "" when it takes it. Costs nothing until a refusal is set. */
std::string webhook_refusal(const std::string &instance, std::string_view body);

/**
 * Jobs whose attempts were being recorded together when the last run stopped:
 * in this process, each one's attempt is recorded alone, under its own
 * Inside, so that a crash while recording it again names that job.
 */
void record_alone(const std::vector<int64_t> &jobs);
/** Whether the attempt of `job` is to be recorded alone. Costs nothing until record_alone() is called. */
bool to_record_alone(int64_t job);

/** "SIGSEGV" and the like; "signal N" for others. */
std::string signal_name(int signal);

}  // namespace cartwire::plugins::crash_note
