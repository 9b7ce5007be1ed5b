/**
 * @file abi.h
 * The binary seam between the Cartwire hub and a connector plugin.
 *
 * This is the contract every plugin shares with the hub at the binary level.
 * It is plain C so that a plugin built with another compiler, another
 * standard library or another version of the C++ SDK still loads safely:
 * everything richer than an integer crosses as a (pointer, length) pair of
 * UTF-8 JSON. Connector authors normally never touch this file; the C++ layer
 * in connector.hpp implements it for them. (connector.hpp also offers an
 * optional native seam, taken only by a hub built with the same toolchain:
 * see CARTWIRE_NATIVE_KEY there.)
 *
 * Naming: functions the plugin implements are called `on_*`; functions the
 * hub implements and hands to the plugin are called `*_callback`.
 *
 * Life cycle:
 *  1. The hub dlopen()s the library (RTLD_NOW | RTLD_LOCAL) and resolves
 *     the symbol named by #CW_ENTRY_POINT. A library without it is rejected.
 *     It does so in a child process first (once per file): a library whose
 *     static initialisers or entry point throw, crash or exit there is
 *     rejected.
 *  2. It calls the entry point once per load and reads `abi_version` before anything
 *     else. A descriptor whose `abi_version` differs from the hub's
 *     #CW_ABI_VERSION is rejected without reading further fields.
 *  3. It parses `manifest_json` and checks it (see docs/sdk.md). A bad
 *     manifest is rejected.
 *     Then it unloads the library: a connector no instance uses costs no
 *     memory. Keep static initialisers free of side effects (no threads).
 *  4. For every integration or source that uses the connector it calls
 *     `on_create` with that instance's settings, then `on_call` any number of
 *     times, possibly from several threads at once, and `on_destroy` once at
 *     shutdown or reload. Before the first `on_create` it loads the library
 *     again and repeats steps 1 and 2 (id and version must be those read in
 *     step 3); from then on the library stays loaded until a reload puts a
 *     new version in its place and the last instance of this one is
 *     destroyed (its last call returned): it is then unloaded. Stop in
 *     `on_destroy` every thread, timer and handler an instance started. The
 *     hub counts the threads the library's code starts until each ends, and
 *     sees a `timer_create` timer (`SIGEV_THREAD`) running a function of the
 *     library until deleted, a `pthread_key_create` key whose destructor is
 *     the library's until deleted, and a signal handler of the library set
 *     with `sigaction` or `signal` until another takes its place: one left
 *     then keeps the library loaded until the hub exits (a warning names the
 *     connector and what it left). A callback left with another library is
 *     not seen, and runs in unmapped code.
 *
 * Ownership: every buffer that crosses the seam in either direction is
 * allocated with the host's `alloc_callback` and released with its
 * `free_callback`. A plugin returning a buffer allocates it with
 * `alloc_callback`; the hub frees it. The hub returning a buffer to the plugin
 * (an HTTP response) allocates it the same way; the plugin frees it with
 * `free_callback`. Strings passed as arguments are borrowed for the call only.
 */
#ifndef CARTWIRE_SDK_ABI_H
#define CARTWIRE_SDK_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this seam. Bumped on any incompatible change of the structs below. */
#define CW_ABI_VERSION 1u

/** Name of the one symbol a plugin exports. */
#define CW_ENTRY_POINT "cartwire_plugin_descriptor"

/** Return codes of `on_create` and `on_call`. */
enum cw_status {
  /** The call ran; its JSON answer says how it went (ok, retryable, ...). */
  CW_OK = 0,
  /** The call could not run at all; `*out` holds a UTF-8 message. */
  CW_FAILED = 1
};

/** Log levels accepted by `log_callback`. */
enum cw_log_level { CW_LOG_DEBUG = 0, CW_LOG_INFO = 1, CW_LOG_WARNING = 2, CW_LOG_ERROR = 3 };

/**
 * Services the hub offers a plugin. The table is owned by the hub and stays
 * valid until `on_destroy` returns. Every callback is thread-safe.
 *
 * `call_ctx` identifies the call on whose behalf a service is used: pass the
 * value the hub gave to `on_call` (or `on_create`). The hub uses it to attach
 * outbound HTTP exchanges to the right attempt in the execution log.
 */
typedef struct cw_host_api {
  /** Equals CW_ABI_VERSION of the hub. */
  uint32_t abi_version;

  /** Allocate `size` bytes that the other side will free. Never returns NULL. */
  char *(*alloc_callback)(size_t size);
  /** Release a buffer obtained from `alloc_callback`. NULL is ignored. */
  void (*free_callback)(char *buffer);

  /** Write one log line. The hub adds the plugin id, time and level. */
  void (*log_callback)(void *call_ctx, int level, const char *message, size_t message_len);

  /**
   * Perform one outbound HTTP request, synchronously.
   *
   * Request JSON: {"method": "POST", "url": "https://...", "headers": {"name": "value"},
   *                "body": "<text>", "timeout_ms": 15000}
   * Response JSON (allocated with alloc_callback, owned by the caller):
   *   {"status": 200, "headers": {"name": "value"}, "body": "<text>"}  on an HTTP answer, or
   *   {"error": "connect: connection refused", "timeout": false}     when no answer came.
   * The hub owns connection reuse, TLS, timeouts and the recording of the
   * exchange (with secrets redacted) for the execution log.
   * @return CW_OK when `*response` was written (even for an HTTP error status).
   */
  int (*http_callback)(void *call_ctx, const char *request, size_t request_len, char **response,
                       size_t *response_len);

  /** Milliseconds since the Unix epoch, from the hub's clock (tests may pin it). */
  int64_t (*clock_ms_callback)(void *call_ctx);
} cw_host_api;

/**
 * What a plugin exports. Returned by the entry point; must point to static
 * storage that lives as long as the library is loaded.
 */
typedef struct cw_plugin_descriptor {
  /** Must be the first field: CW_ABI_VERSION the plugin was built against. */
  uint32_t abi_version;
  /** Free text naming what built the plugin, e.g. "cartwire-sdk 1.0.0". Shown in errors. */
  const char *build_key;
  /** Connector id, e.g. "thinkific". Unique among loaded plugins. */
  const char *id;
  /** Connector version, semantic versioning. */
  const char *version;
  /** The manifest: settings, actions, triggers, lists and fields, as JSON. */
  const char *manifest_json;

  /**
   * Create one instance (an integration or a source) from its settings JSON.
   * On CW_OK `*instance` is set; on CW_FAILED `*error` holds a message.
   */
  int (*on_create)(const cw_host_api *host, void *call_ctx, const char *settings,
                   size_t settings_len, void **instance, char **error, size_t *error_len);

  /**
   * Run one operation on an instance. `operation` is "action", "webhook",
   * "list", "poll" or "import"; `request` and `*response` are JSON documents
   * described in docs/sdk.md. An operation unknown to the plugin (one added to
   * the hub after the plugin was built) is answered with a permanent result
   * naming it, so new operations need no new ABI version. Must not throw.
   * May be called from several threads.
   */
  int (*on_call)(void *instance, void *call_ctx, const char *operation, const char *request,
                 size_t request_len, char **response, size_t *response_len);

  /** Destroy an instance created by on_create. */
  void (*on_destroy)(void *instance);
} cw_plugin_descriptor;

/** Signature of the entry point. */
typedef const cw_plugin_descriptor *(*cw_entry_point_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* CARTWIRE_SDK_ABI_H */
