#include "token.hpp"

namespace cartwire::samcart {

PresentedTokens presented_tokens(const sdk::WebhookRequest &request) {
  PresentedTokens out;
  if (auto it = request.query.find("token"); it != request.query.end() && !it->second.empty()) out.query = it->second;
  // The hub passes what follows /hooks/<source-id>: "" , "/<token>" or "/<token>/".
  std::string_view path = request.path;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::size_t slash = path.rfind('/');
  std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (!last.empty()) out.path = std::string(last);
  return out;
}

}  // namespace cartwire::samcart
