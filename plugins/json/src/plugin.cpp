// Exports the JSON endpoint connector through the Cartwire C seam.
#include <cartwire/sdk/connector.hpp>

#include "cartwire_manifest.h"
#include "connector.hpp"

CARTWIRE_CONNECTOR(cartwire::json::JsonConnector)
