#include "plugins/thread_watch.hpp"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unwind.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

// A sanitizer's runtime, linked into the executable, defines pthread_create,
// sigaction and signal weakly, as its interceptors: the definitions below take
// their place and call the interceptors, as the sanitizer needs. It intercepts
// neither timer_create nor pthread_key_create (clang 14): those go to the C
// library's.
extern "C" int __interceptor_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *)
    __attribute__((weak));
extern "C" int __interceptor_sigaction(int, const struct sigaction *, struct sigaction *) __attribute__((weak));
extern "C" sighandler_t __interceptor_signal(int, sighandler_t) __attribute__((weak));
// The C library's other names for two of them, called without dlsym(): a
// sanitizer's runtime creates its key as it starts, before dlsym() may be
// called, and the hub's crash handler calls sigaction in a signal handler.
extern "C" int __pthread_key_create(pthread_key_t *, void (*)(void *));
extern "C" int __sigaction(int, const struct sigaction *, struct sigaction *);

namespace cartwire::plugins {

// A thread a watched library started: its routine runs counted.
struct ThreadStart {
  void *(*routine)(void *);
  void *arg;
  std::shared_ptr<ThreadWatch> watch;

  // Not noexcept: pthread_exit() and cancellation unwind through it, and the count is taken back then too.
  static void *run(void *started) {
    std::unique_ptr<ThreadStart> start(static_cast<ThreadStart *>(started));
    struct Ended {
      ThreadWatch &watch;
      ~Ended() { watch.running_.fetch_sub(1); }
    } ended{*start->watch};
    return start->routine(start->arg);
  }

  static std::atomic<int> &running(ThreadWatch &watch) { return watch.running_; }
};

namespace {

// The definition the hub's takes the place of: the next library's (the C library's), or the sanitizer's interceptor.
template <typename Function>
Function next_definition(const char *name) {
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}
template <typename Function>
Function next_definition(Function interceptor, const char *name) {
  return interceptor ? interceptor : next_definition<Function>(name);
}

auto real_create() {
  static const auto real = next_definition(&__interceptor_pthread_create, "pthread_create");
  return real;
}

struct Span {
  uintptr_t begin, end;
  bool has(uintptr_t address) const { return address >= begin && address < end; }
};

// The executable segments of the loaded object that holds `address` (any of its segments).
std::vector<Span> code_of(const void *address) {
  struct Search {
    uintptr_t address;
    std::vector<Span> code;
  } search{reinterpret_cast<uintptr_t>(address), {}};
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *data) {
        auto *s = static_cast<Search *>(data);
        bool holds = false;
        std::vector<Span> code;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr) &ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          Span span{info->dlpi_addr + ph.p_vaddr, info->dlpi_addr + ph.p_vaddr + ph.p_memsz};
          holds = holds || span.has(s->address);
          if (ph.p_flags & PF_X) code.push_back(span);
        }
        if (!holds) return 0;
        s->code = std::move(code);
        return 1;
      },
      &search);
  return search.code;
}

struct Watched {
  ThreadWatch *watch;
  std::vector<Span> code;
};

std::mutex watches_mutex;
std::vector<Watched> watches;  // guarded by watches_mutex
std::atomic<int> watching = 0;  // watches.size(), read without the lock
thread_local ThreadWatch *loading = nullptr;  // the watch of the library this thread loads

// The hub's own code: a thread its frames start is the hub's, whatever called it.
const std::vector<Span> &hub_code() {
  static const std::vector<Span> code = code_of(reinterpret_cast<const void *>(&ThreadStart::run));
  return code;
}

// The watch of the library whose code starts a thread here: that of the frame
// nearest to `caller` (pthread_create's return address) that is the hub's or a
// watched library's; the frames between, in the C and C++ runtimes or another
// library (std::thread, Poco::Thread), tell nothing. Null for the hub's.
std::shared_ptr<ThreadWatch> starter(void *caller) {
  if (loading) return loading->weak_from_this().lock();
  if (watching.load() == 0) return nullptr;
  struct Frames {
    uintptr_t at[64];
    int count = 0;
  } frames;
  _Unwind_Backtrace(
      [](_Unwind_Context *context, void *data) {
        auto *f = static_cast<Frames *>(data);
        if (f->count == 64) return _URC_END_OF_STACK;
        f->at[f->count++] = _Unwind_GetIP(context);
        return _URC_NO_REASON;
      },
      &frames);
  int from = 0;
  while (from < frames.count && frames.at[from] != reinterpret_cast<uintptr_t>(caller)) ++from;
  const std::vector<Span> &hub = hub_code();
  std::lock_guard lock(watches_mutex);
  for (int i = from; i < frames.count; ++i) {
    uintptr_t call = frames.at[i] - 1;  // a return address may be the first byte past its function
    if (std::any_of(hub.begin(), hub.end(), [&](const Span &s) { return s.has(call); })) return nullptr;
    for (auto &w : watches)
      if (std::any_of(w.code.begin(), w.code.end(), [&](const Span &s) { return s.has(call); }))
        return w.watch->weak_from_this().lock();
  }
  return nullptr;
}

// What calls code of a library without a thread it started: by their
// functions' addresses, whatever set them (a library's static initialisers
// too), as ThreadWatch::left() reads them. Set and read without a lock: a
// signal handler may call sigaction.
std::atomic<uintptr_t> signal_handlers[NSIG];  // the handler of each signal, as the last sigaction or signal set it
std::atomic<uintptr_t> key_destructors[PTHREAD_KEYS_MAX];  // the destructor of each key, until it is deleted

struct ThreadTimer {
  timer_t id;
  uintptr_t function;
};
std::mutex timers_mutex;
std::vector<ThreadTimer> thread_timers;  // timers that start a thread (SIGEV_THREAD), until deleted; by timers_mutex

auto real_sigaction() { return __interceptor_sigaction ? &__interceptor_sigaction : &__sigaction; }

// Reads the handler signal `number` has now: a sanitizer may keep its own in place of the one asked for.
void note_handler(int number) {
  if (number <= 0 || number >= NSIG) return;
  struct sigaction now {};
  if (real_sigaction()(number, nullptr, &now) != 0) return;
  signal_handlers[number].store(now.sa_flags & SA_SIGINFO ? reinterpret_cast<uintptr_t>(now.sa_sigaction)
                                                          : reinterpret_cast<uintptr_t>(now.sa_handler));
}

}  // namespace

ThreadWatch::Left ThreadWatch::left() const {
  Left left;
  left.threads = running_.load();
  std::vector<Span> code;
  {
    std::lock_guard lock(watches_mutex);
    for (auto &w : watches)
      if (w.watch == this) code = w.code;
  }
  auto calls = [&](uintptr_t function) {
    return std::any_of(code.begin(), code.end(), [&](const Span &s) { return s.has(function); });
  };
  for (auto &handler : signal_handlers) left.handlers += calls(handler.load());
  for (auto &destructor : key_destructors) left.keys += calls(destructor.load());
  std::lock_guard lock(timers_mutex);
  for (auto &timer : thread_timers) left.timers += calls(timer.function);
  return left;
}

ThreadWatch::Loading::Loading(ThreadWatch &watch) : previous_(loading) { loading = &watch; }

ThreadWatch::Loading::~Loading() { loading = previous_; }

void ThreadWatch::watch(void *handle) {
  link_map *map = nullptr;
  if (!handle || dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || !map) return;
  std::vector<Span> code = code_of(map->l_ld);
  hub_code();  // read before a thread needs it
  std::lock_guard lock(watches_mutex);
  if (watched_ || code.empty()) return;
  watches.push_back({this, std::move(code)});
  watched_ = true;
  watching.fetch_add(1);
}

void ThreadWatch::forget() {
  std::lock_guard lock(watches_mutex);
  if (!watched_) return;
  std::erase_if(watches, [&](const Watched &w) { return w.watch == this; });
  watched_ = false;
  watching.fetch_sub(1);
}

}  // namespace cartwire::plugins

// Every thread of the process is started here (the executable exports it, so
// the libraries it loads come here too): those a watched library starts are
// counted while they run.
extern "C" int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*routine)(void *),
                              void *arg) noexcept {
  using cartwire::plugins::ThreadStart;
  std::shared_ptr<cartwire::plugins::ThreadWatch> watch = cartwire::plugins::starter(__builtin_return_address(0));
  if (!watch) return cartwire::plugins::real_create()(thread, attr, routine, arg);
  auto *start = new (std::nothrow) ThreadStart{routine, arg, watch};
  if (!start) return EAGAIN;
  ThreadStart::running(*watch).fetch_add(1);
  int failed = cartwire::plugins::real_create()(thread, attr, &ThreadStart::run, start);
  if (failed) {
    ThreadStart::running(*watch).fetch_sub(1);
    delete start;
  }
  return failed;
}

// The timers, keys and signal handlers of the process are set here (the
// executable exports these too): ThreadWatch::left() tells those that call a
// library's code.

extern "C" int timer_create(clockid_t clock, struct sigevent *event, timer_t *timer) noexcept {
  using namespace cartwire::plugins;
  static const auto real = next_definition<decltype(&::timer_create)>("timer_create");
  int failed = real(clock, event, timer);
  if (failed || !event || event->sigev_notify != SIGEV_THREAD) return failed;
  {
    std::lock_guard lock(timers_mutex);
    try {
      thread_timers.push_back({*timer, reinterpret_cast<uintptr_t>(event->sigev_notify_function)});
      return 0;
    } catch (const std::bad_alloc &) {
    }
  }
  timer_delete(*timer);  // one not counted would be missed: none is made
  errno = ENOMEM;
  return -1;
}

extern "C" int timer_delete(timer_t timer) noexcept {
  using namespace cartwire::plugins;
  static const auto real = next_definition<decltype(&::timer_delete)>("timer_delete");
  int failed = real(timer);
  if (failed) return failed;
  std::lock_guard lock(timers_mutex);
  std::erase_if(thread_timers, [&](const ThreadTimer &t) { return t.id == timer; });
  return 0;
}

extern "C" int pthread_key_create(pthread_key_t *key, void (*destructor)(void *)) noexcept {
  int failed = __pthread_key_create(key, destructor);
  if (!failed && *key < PTHREAD_KEYS_MAX)
    cartwire::plugins::key_destructors[*key].store(reinterpret_cast<uintptr_t>(destructor));
  return failed;
}

extern "C" int pthread_key_delete(pthread_key_t key) noexcept {
  using namespace cartwire::plugins;
  static const auto real = next_definition<decltype(&::pthread_key_delete)>("pthread_key_delete");
  int failed = real(key);
  if (!failed && key < PTHREAD_KEYS_MAX) key_destructors[key].store(0);
  return failed;
}

extern "C" int sigaction(int number, const struct sigaction *action, struct sigaction *previous) noexcept {
  int failed = cartwire::plugins::real_sigaction()(number, action, previous);
  if (!failed && action) cartwire::plugins::note_handler(number);
  return failed;
}

extern "C" sighandler_t signal(int number, sighandler_t handler) noexcept {
  using namespace cartwire::plugins;
  static const auto real = next_definition(&__interceptor_signal, "signal");
  sighandler_t previous = real(number, handler);
  if (previous != SIG_ERR) note_handler(number);
  return previous;
}
