// Files of the web console, served from admin.web_dir.
#pragma once

#include <string>

#include "admin/router.hpp"

namespace cartwire::admin {

/**
 * The file at `path` under `dir`; "/" and paths without an extension that
 * match no file get index.html (the console routes in the browser). Paths
 * that climb out of `dir` are refused. Without `dir`, "/" answers a short
 * JSON note on where the API is.
 */
Response static_file(const std::string &dir, const std::string &path);

}  // namespace cartwire::admin
