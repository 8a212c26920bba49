/* The table behind HcError: stable names and HTTP statuses for every code.
 * Used by the HTTP layer to answer errors and by logging. */
#include "error.h"

/* The quark's name is one token to the macro: not for clang-format. */
// clang-format off
G_DEFINE_QUARK(hallcast-error-quark, hc_error)
// clang-format on

static const struct {
  int code;
  const char *name;
  int http_status;
} errors[] = {
  {HC_OK, "ok", 200},
  {HC_EINVAL, "invalid_argument", 400},
  {HC_ENOTFOUND, "not_found", 404},
  {HC_EEXISTS, "already_exists", 409},
  {HC_EUNSUPPORTED, "unsupported", 400},
  {HC_EFULL, "limit_reached", 503},
  {HC_ETOOLARGE, "too_large", 413},
  {HC_EMETHOD, "method_not_allowed", 405},
  {HC_EINTERNAL, "internal_error", 500},
  {HC_EPLUGIN, "plugin_error", 500},
  {HC_ECONFIG, "config_error", 500},
  {HC_EUNAUTHORIZED, "unauthorized", 401},
  {HC_EFORBIDDEN, "forbidden", 403},
};

static guint
find(int code)
{
  for (guint i = 0; i < G_N_ELEMENTS(errors); i++)
    if (errors[i].code == code)
      return i;
  return G_N_ELEMENTS(errors); /* not a known code */
}

const char *
hc_error_name(int code)
{
  guint i = find(code);
  return i < G_N_ELEMENTS(errors) ? errors[i].name : "internal_error";
}

int
hc_error_http_status(int code)
{
  guint i = find(code);
  return i < G_N_ELEMENTS(errors) ? errors[i].http_status : 500;
}
