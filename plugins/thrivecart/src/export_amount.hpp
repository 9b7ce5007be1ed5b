#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cartwire::thrivecart {

/**
 * Cents from an amount as a spreadsheet in any locale writes it: a currency
 * sign or code at either end, a decimal point or comma ("49,95"), thousands
 * grouped by commas, dots or spaces ("1.234,50", "1 234,50"). The last
 * separator is the decimal one when it is the only one of its kind, and has
 * not three digits after it unless the other kind comes before it: alone
 * with three digits after it, a dot groups thousands as a comma does
 * ("1.000", "1,000"). The others must group digits by three. nullopt for
 * text that fits neither reading ("49,95,00", "0.125").
 */
std::optional<int64_t> export_cents(std::string text);

}  // namespace cartwire::thrivecart
