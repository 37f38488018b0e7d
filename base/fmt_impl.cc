// fmt's compiled part, built once for the whole program.
//
// Debian and Ubuntu ship fmt as headers plus a shared library only. A statically linked layerplan
// (LAYERPLAN_STATIC_RUNTIME) cannot use the shared one, and fmt's header-only mode makes every
// translation unit that includes <fmt/format.h> compile fmt's implementation again: on the 2-core
// CI machine that doubled the compile time of a typical lib/ file (12.6 s against 6.3 s). Here
// the implementation is compiled once, in fmt's ordinary (not header-only) mode, and linked in.
// Besides its out-of-line functions, format.h declares two templates `extern` and expects the
// library to instantiate them for char; they are instantiated below. The top-level CMakeLists.txt
// links a probe program against this file at configure time (cmake/fmt_probe.cc) and falls back
// to header-only mode where an fmt release needs more.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl<char>(locale_ref) -> char;
}  // namespace detail
FMT_END_NAMESPACE
