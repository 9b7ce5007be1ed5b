// Exports the Thinkific connector through the Cartwire C seam.
#include <cartwire/sdk/connector.hpp>

#include "cartwire_manifest.h"
#include "connector.hpp"

CARTWIRE_CONNECTOR(cartwire::thinkific::ThinkificConnector)
