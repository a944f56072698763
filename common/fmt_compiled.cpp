// fmt's compiled part, built once for every program. Debian ships libfmt.so but no libfmt.a, and
// FMT_HEADER_ONLY would compile it again in every file that formats (about 4 s of -O2 each).
// This is what fmt's own src/format.cc does: include format-inl.h with FMT_FUNC empty (fmt's
// default without FMT_HEADER_ONLY), and instantiate the templates that format.h declares extern.
// Only the char variants: nothing here formats wide strings.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template FMT_API auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
}  // namespace detail
FMT_END_NAMESPACE
