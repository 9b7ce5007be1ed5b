#include "plugins/crash_note.hpp"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

namespace cartwire::plugins::crash_note {
namespace {

constexpr int kFatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

// Initial-exec: read from a signal handler, a thread-local must not need the
// dynamic loader.
__attribute__((tls_model("initial-exec"))) thread_local Inside *current = nullptr;

const std::string kNothing;  // the instance and detail of a batch's record

int note_fd = -1;
off_t note_at = 0;  // where this process's note goes: after those kept from the last runs
char note_node[256];  // this process's node, for the note
std::size_t note_node_size = 0;
pid_t armed_pid = 0;  // a child forked by this process (a plugin probe) writes no note
std::atomic<int> note_state{0};  // 0: none written yet, 1: a thread is writing it, 2: written
static_assert(std::atomic<int>::is_always_lock_free, "a signal handler may use only lock-free atomics");

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Text built without allocating, for the signal handler.
class Line {
 public:
  Line &text(const char *s) { return bytes(s, strlen(s)); }
  Line &bytes(const char *s, std::size_t n) {
    for (std::size_t i = 0; i < n && used_ < sizeof buf_; ++i)
      buf_[used_++] = (s[i] >= 0 && s[i] < 0x20) || s[i] == 0x7f ? '?' : s[i];  // one field per line
    return *this;
  }
  Line &number(int64_t v) {
    char digits[24];
    int n = 0;
    bool negative = v < 0;
    uint64_t u = negative ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
      digits[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u);
    if (negative) digits[n++] = '-';
    while (n && used_ < sizeof buf_) buf_[used_++] = digits[--n];
    return *this;
  }
  Line &hex(uint64_t v) {
    for (int shift = 60; shift >= 0 && used_ < sizeof buf_; shift -= 4) buf_[used_++] = "0123456789abcdef"[(v >> shift) & 0xf];
    return *this;
  }
  Line &newline() {
    if (used_ < sizeof buf_) buf_[used_++] = '\n';
    return *this;
  }
  const char *data() const { return buf_; }
  std::size_t size() const { return used_; }

 private:
  char buf_[1024];
  std::size_t used_ = 0;
};

// FNV-1a: a few lines, stable across builds, and safe in a signal handler.
uint64_t fnv1a(const char *data, std::size_t size) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

Line &fingerprint_of(Line &line, const char *data, std::size_t size) {
  return line.number(static_cast<int64_t>(size)).text(":").hex(fnv1a(data, size));
}

void write_all(int fd, const char *data, std::size_t size) {
  while (size) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

const char *short_name(int signal) {
  switch (signal) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return nullptr;
  }
}

void on_fatal(int signal) {
  int saved = errno;
  Inside *in = current;
  int none = 0;
  if (in && note_fd >= 0 && ::getpid() == armed_pid && note_state.compare_exchange_strong(none, 1)) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    int64_t ended = static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
    Line note;
    note.text("signal ").number(signal).newline();
    note.text("job ").number(in->job).newline();
    if (in->jobs) {
      note.text("jobs");
      for (int64_t job : *in->jobs) note.text(" ").number(job);
      note.newline();
    }
    note.text("instance ").bytes(in->instance.data(), in->instance.size()).newline();
    note.text("operation ").text(in->operation).newline();
    note.text("detail ").bytes(in->detail.data(), in->detail.size()).newline();
    note.text("started ").number(in->started_ms).newline();
    note.text("ended ").number(ended).newline();
    note.text("code ").text(in->code == Code::hub ? "hub" : "connector").newline();
    note.text("node ").bytes(note_node, note_node_size).newline();
    if (in->attempts >= 0) note.text("attempts ").number(in->attempts).newline();
    ::pwrite(note_fd, note.data(), note.size(), note_at);
    ::fsync(note_fd);
    // Added once the rest is on disk: the connector may have broken the request's memory too.
    if (in->request) {
      Line request;
      fingerprint_of(request.text("request "), in->request->data(), in->request->size()).newline();
      ::pwrite(note_fd, request.data(), request.size(), note_at + static_cast<off_t>(note.size()));
      ::fsync(note_fd);
    }
    Line said;
    said.text("cartwire: ").text(short_name(signal) ? short_name(signal) : "a fatal signal");
    if (in->jobs) {
      said.text(" in the hub's own code, not in a connector, recording the attempts of jobs");
      const char *comma = " ";
      for (int64_t job : *in->jobs) {
        said.text(comma).number(job);
        comma = ", ";
      }
      said.text(" together; the hub stops, and at its next start says so and records them one at a time").newline();
    } else if (in->attempts >= 0) {
      said.text(" in the hub's own code, not in a connector, claiming job ").number(in->job)
          .text("; the hub stops, and at its next start says so and does not claim that job again").newline();
    } else {
      said.text(in->code == Code::hub ? " in the hub's own code, not in a connector, working for '"
                                      : " inside the connector of '")
          .bytes(in->instance.data(), in->instance.size()).text("' (").text(in->operation);
      if (!in->detail.empty() && in->detail != in->operation) said.text(" ").bytes(in->detail.data(), in->detail.size());
      if (in->job) said.text(", job ").number(in->job);
      said.text("); the hub stops, and at its next start says so").text(in->job ? " and does not run that job again" : "")
          .newline();
    }
    write_all(2, said.data(), said.size());
    note_state = 2;
  }
  // Another thread crashing meanwhile waits (a second at most) for the note
  // to be written: its signal would end the process before.
  for (int waited = 0; note_state.load() == 1 && waited < 1000; ++waited) {
    timespec ms{0, 1000000};
    ::nanosleep(&ms, nullptr);
  }
  // Ended as the signal ends a process (a core dump where they are on):
  // raised again, it is delivered as this handler returns.
  struct sigaction plain {};
  plain.sa_handler = SIG_DFL;
  sigemptyset(&plain.sa_mask);
  ::sigaction(signal, &plain, nullptr);
  ::raise(signal);
  errno = saved;
}

// A connector that overflows its stack gets its signal on a stack of the
// handler's own, when the thread has none yet (a sanitizer's, say). Mapped,
// not allocated: its pages take no memory until a signal uses them.
struct AltStack {
  static constexpr std::size_t kSize = 64 * 1024;
  void *memory = nullptr;
  AltStack() {
    stack_t now{};
    if (::sigaltstack(nullptr, &now) != 0 || !(now.ss_flags & SS_DISABLE)) return;
    memory = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) {
      memory = nullptr;
      return;
    }
    stack_t mine{};
    mine.ss_sp = memory;
    mine.ss_size = kSize;
    if (::sigaltstack(&mine, nullptr) != 0) {
      ::munmap(memory, kSize);
      memory = nullptr;
    }
  }
  ~AltStack() {
    if (!memory) return;
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    ::sigaltstack(&off, nullptr);
    ::munmap(memory, kSize);
  }
};

// Makes `in` what this thread works on.
void enter(Inside *in) {
  if (note_fd >= 0) {
    thread_local AltStack alt_stack;
    (void)alt_stack;
  }
  std::atomic_signal_fence(std::memory_order_release);  // its fields are set before a handler sees them
  current = in;
}

}  // namespace

Inside::Inside(const std::string &instance_, const char *operation_, const std::string &detail_, int64_t job_,
               const std::string *request_, Code code_) noexcept
    : instance(instance_),
      operation(operation_),
      detail(detail_),
      job(job_),
      request(request_),
      code(code_),
      started_ms(wall_ms()),
      outer(current) {
  enter(this);
}

Inside::Inside(const std::vector<int64_t> &jobs_) noexcept
    : instance(kNothing),
      operation("record"),
      detail(kNothing),
      job(0),
      request(nullptr),
      jobs(&jobs_),
      code(Code::hub),
      started_ms(wall_ms()),
      outer(current) {
  enter(this);
}

Inside::Inside(int64_t job_, int attempts_) noexcept
    : instance(kNothing),
      operation("claim"),
      detail(kNothing),
      job(job_),
      request(nullptr),
      code(Code::hub),
      attempts(attempts_),
      started_ms(wall_ms()),
      outer(current) {
  enter(this);
}

Inside::~Inside() { current = outer; }

store::WorkMarks &work_marks() {
  class Marks final : public store::WorkMarks {
   public:
    const void *mine() const noexcept override { return current; }
    const void *swap(const void *mark) noexcept override {
      Inside *was = current;
      enter(const_cast<Inside *>(static_cast<const Inside *>(mark)));
      return was;
    }
  };
  static Marks marks;
  return marks;
}

namespace {

// The note these fields say; none without a signal.
std::optional<Note> note_of(std::map<std::string, std::string> &fields) {
  auto number = [&](const char *key) -> int64_t {
    auto it = fields.find(key);
    return it == fields.end() ? 0 : std::strtoll(it->second.c_str(), nullptr, 10);
  };
  if (number("signal") <= 0) return std::nullopt;
  Note note;
  note.signal = static_cast<int>(number("signal"));
  note.job = number("job");
  std::istringstream jobs(fields["jobs"]);
  for (int64_t job; jobs >> job;) note.jobs.push_back(job);
  note.instance = fields["instance"];
  note.operation = fields["operation"];
  note.detail = fields["detail"];
  note.started_ms = number("started");
  note.ended_ms = number("ended");
  note.request = fields["request"];
  note.in_hub = fields["code"] == "hub";
  note.node = fields["node"];
  if (fields.count("attempts")) note.attempts = static_cast<int>(number("attempts"));
  return note;
}

// A note as the signal handler writes it, and read() reads it.
std::string text_of(const Note &note) {
  std::ostringstream out;
  out << "signal " << note.signal << "\njob " << note.job << "\n";
  if (!note.jobs.empty()) {
    out << "jobs";
    for (int64_t job : note.jobs) out << " " << job;
    out << "\n";
  }
  out << "instance " << note.instance << "\noperation " << note.operation << "\ndetail " << note.detail
      << "\nstarted " << note.started_ms << "\nended " << note.ended_ms << "\ncode "
      << (note.in_hub ? "hub" : "connector") << "\nnode " << note.node << "\n";
  if (note.attempts >= 0) out << "attempts " << note.attempts << "\n";
  if (!note.request.empty()) out << "request " << note.request << "\n";
  return out.str();
}

}  // namespace

std::vector<Note> read(const std::string &path) {
  std::ifstream in(path);
  std::vector<Note> notes;
  std::map<std::string, std::string> fields;
  auto end_of_note = [&] {
    if (auto note = note_of(fields)) notes.push_back(std::move(*note));
    fields.clear();
  };
  for (std::string line; std::getline(in, line);) {
    auto space = line.find(' ');
    if (space == std::string::npos) continue;
    std::string key = line.substr(0, space);
    if (key == "signal") end_of_note();  // each note begins with its signal
    fields[key] = line.substr(space + 1);
  }
  end_of_note();
  return notes;
}

std::string fingerprint(std::string_view request) {
  Line line;
  fingerprint_of(line, request.data(), request.size());
  return std::string(line.data(), line.size());
}

void arm(const std::string &path, const std::string &node, const std::vector<Note> &keep) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + strerror(errno));
  std::string kept;
  for (const Note &note : keep) kept += text_of(note);
  if (::pwrite(fd, kept.data(), kept.size(), 0) != static_cast<ssize_t>(kept.size()) ||
      ::ftruncate(fd, static_cast<off_t>(kept.size())) != 0) {
    std::string why = strerror(errno);
    ::close(fd);
    throw std::runtime_error("cannot write " + path + ": " + why);
  }
  ::fsync(fd);
  note_at = static_cast<off_t>(kept.size());
  note_node_size = node.copy(note_node, sizeof note_node);
  if (note_fd >= 0) ::close(note_fd);
  note_fd = fd;
  armed_pid = ::getpid();
  for (int signal : kFatal) {
    struct sigaction action {};
    action.sa_handler = on_fatal;
    action.sa_flags = SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    ::sigaction(signal, &action, nullptr);
  }
}

namespace {

// What an instance is refused: its creation with these settings (their JSON text), or a webhook
// of this fingerprint; and why.
struct Refused {
  std::string what, why;
  bool marked = false;  // a creation's: its source's mark in the store is this node's (marked_in_store)
};
std::mutex refused_mutex;
std::map<std::string, Refused> refused;           // creations, by instance; guarded by refused_mutex
std::map<std::string, Refused> refused_webhooks;  // webhooks, by instance; ditto
std::atomic<bool> any_refused_webhook{false};
std::set<int64_t> alone;  // jobs whose attempts are recorded alone; guarded by refused_mutex
std::atomic<bool> any_alone{false};

}  // namespace

void refuse_creating(const std::string &instance, const std::string &settings, const std::string &why) {
  std::lock_guard lock(refused_mutex);
  refused[instance] = {settings, why, false};
}

std::string refusal(const std::string &instance, const std::string &settings) {
  std::lock_guard lock(refused_mutex);
  auto it = refused.find(instance);
  return it != refused.end() && it->second.what == settings ? it->second.why : "";
}

bool allow_creating(const std::string &instance) {
  std::lock_guard lock(refused_mutex);
  return refused.erase(instance) > 0;
}

void marked_in_store(const std::string &instance) {
  std::lock_guard lock(refused_mutex);
  if (auto it = refused.find(instance); it != refused.end()) it->second.marked = true;
}

bool refused_and_marked(const std::string &instance, const std::string &settings) {
  std::lock_guard lock(refused_mutex);
  auto it = refused.find(instance);
  return it != refused.end() && it->second.what == settings && it->second.marked;
}

void refuse_webhook(const std::string &instance, const std::string &fingerprint, const std::string &why) {
  std::lock_guard lock(refused_mutex);
  refused_webhooks[instance] = {fingerprint, why, false};
  any_refused_webhook = true;
}

std::string webhook_refusal(const std::string &instance, std::string_view body) {
  if (!any_refused_webhook.load(std::memory_order_relaxed)) return "";
  std::lock_guard lock(refused_mutex);
  auto it = refused_webhooks.find(instance);
  return it != refused_webhooks.end() && it->second.what == fingerprint(body) ? it->second.why : "";
}

void record_alone(const std::vector<int64_t> &jobs) {
  std::lock_guard lock(refused_mutex);
  alone.insert(jobs.begin(), jobs.end());
  any_alone = true;
}

bool to_record_alone(int64_t job) {
  if (!any_alone.load(std::memory_order_relaxed)) return false;
  std::lock_guard lock(refused_mutex);
  return alone.count(job) > 0;
}

std::string signal_name(int signal) {
  if (const char *name = short_name(signal)) return name;
  return "signal " + std::to_string(signal);
}

}  // namespace cartwire::plugins::crash_note
