#include "admin/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace cartwire::admin {
namespace {

namespace fs = std::filesystem;

std::string content_type(const fs::path &file) {
  static const std::map<std::string, std::string> types = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".ico", "image/x-icon"}, {".woff2", "font/woff2"}, {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"}, {".yaml", "text/yaml; charset=utf-8"}};
  auto it = types.find(file.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

Response file_response(const fs::path &file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  Response r;
  r.body = body.str();
  r.content_type = content_type(file);
  r.headers["Cache-Control"] = file.filename() == "index.html" ? "no-cache" : "public, max-age=300";
  // The console runs only its own files: no inline script or style, no other origin, no framing.
  r.headers["Content-Security-Policy"] =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
      "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  return r;
}

}  // namespace

Response static_file(const std::string &dir, const std::string &path) {
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) {
    if (path == "/" || path.empty())
      return Response::of(200, {{"service", "cartwire admin"},
                                {"console", "not installed: admin.web_dir (" + dir + ") has no web console"},
                                {"api", "/api"},
                                {"openapi", "docs/admin-api.yaml"}});
    return Response::error(404, "no such file (the web console is not installed)");
  }
  fs::path root = fs::weakly_canonical(dir, ec);
  std::string relative = path.empty() ? "" : path.substr(1);
  fs::path wanted = fs::weakly_canonical(root / relative, ec);
  // A ".." or a symlink out of the folder resolves outside the root.
  auto [end, _] = std::mismatch(root.begin(), root.end(), wanted.begin(), wanted.end());
  if (ec || end != root.end()) return Response::error(404, "no such file");
  if (fs::is_regular_file(wanted, ec)) return file_response(wanted);
  if (fs::is_directory(wanted, ec) && fs::is_regular_file(wanted / "index.html", ec)) return file_response(wanted / "index.html");
  if (!fs::path(relative).has_extension() && fs::is_regular_file(root / "index.html", ec))
    return file_response(root / "index.html");
  return Response::error(404, "no such file");
}

}  // namespace cartwire::admin
