#include "plugins/thread_watch.hpp"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <unwind.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

// A sanitizer's runtime, linked into the executable, defines pthread_create
// weakly, as its interceptor: the definition below takes its place and starts
// threads through the interceptor, as the sanitizer needs.
extern "C" int __interceptor_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *)
    __attribute__((weak));

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

using Create = int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

Create real_create() {
  static const Create real = __interceptor_pthread_create
                                 ? &__interceptor_pthread_create
                                 : reinterpret_cast<Create>(dlsym(RTLD_NEXT, "pthread_create"));
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

}  // namespace

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
