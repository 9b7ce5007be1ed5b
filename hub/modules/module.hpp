// Hub modules: parts of the hub kept out of its executable because of the
// libraries they link (OpenSSL for outbound HTTPS, libpq for the PostgreSQL
// store). A hub that does not use one never maps its libraries.
#pragma once

namespace cartwire::modules {

/**
 * The address of `symbol` in the hub module `file`, which is loaded with the
 * first call and never unloaded, not even at exit (objects it made may
 * outlive everything else). It is looked for in lib/cartwire beside the
 * executable (the build tree), then where install() puts it. Throws
 * std::runtime_error naming `what` ("HTTPS support") and where it looked or
 * why it failed; a later call tries again.
 */
void *symbol(const char *file, const char *symbol, const char *what);

}  // namespace cartwire::modules
