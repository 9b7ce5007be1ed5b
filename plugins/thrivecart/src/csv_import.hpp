#pragma once

#include <cartwire/sdk/file_import.hpp>

#include "normalizer.hpp"

namespace cartwire::thrivecart {

/**
 * The "csv" import trigger: rows of ThriveCart's CSV exports (orders,
 * recurring subscriptions, limited subscriptions) become the events its
 * webhooks produce for the same facts. Each row is rebuilt as the webhook
 * payload it stands for and goes through normalize(), so the dedupe keys are
 * the webhook's by construction. Header names match whatever their case,
 * surrounding spaces and separators ("Order ID" = "order_id").
 */
sdk::ImportReply import_rows(const sdk::ImportRequest &request, const NormalizeContext &context);

}  // namespace cartwire::thrivecart
