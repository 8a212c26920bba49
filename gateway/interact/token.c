/* Token check for /ws and the exports: the one place a token becomes an
 * identity (role, site, name). Until signed tokens exist, the development
 * form "role:site:name" is accepted when [interact] dev_tokens=true. Called
 * from ws.c and http/api_interact.c. */
#define G_LOG_DOMAIN "hc-interact"

#include <string.h>

#include "core/error.h"
#include "internal.h"

static const char *const role_names[] = {"viewer", "school", "lecturer", "operator"};

const char *
hc_role_name(HcRole role)
{
  return (guint)role < G_N_ELEMENTS(role_names) ? role_names[role] : "viewer";
}

static gboolean
site_valid(const char *s, gsize n)
{
  if (n < 1 || n > 64)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum(s[i]) && s[i] != '-' && s[i] != '_')
      return FALSE;
  return TRUE;
}

gboolean
hc_interact_token_check(const char *token, HcIdentity *who, GError **error)
{
  const char *c1, *c2, *name;
  gsize name_len;
  int role = -1;

  memset(who, 0, sizeof *who);
  if (!hc_interact_limits.dev_tokens) {
    g_set_error(error, HC_ERROR, HC_EUNAUTHORIZED, "no token form is enabled on this gateway");
    return FALSE;
  }
  if (!token || !(c1 = strchr(token, ':')) || !(c2 = strchr(c1 + 1, ':')))
    goto bad;
  for (guint i = 0; i < G_N_ELEMENTS(role_names); i++)
    if ((gsize)(c1 - token) == strlen(role_names[i]) &&
        strncmp(token, role_names[i], c1 - token) == 0)
      role = (int)i;
  name = c2 + 1;
  name_len = strlen(name);
  if (role < 0 || !site_valid(c1 + 1, c2 - c1 - 1) || name_len < 1 || name_len > 255 ||
      !g_utf8_validate(name, -1, NULL))
    goto bad;
  for (const char *p = name; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      goto bad;
  who->role = role;
  memcpy(who->site, c1 + 1, c2 - c1 - 1);
  memcpy(who->name, name, name_len + 1);
  g_snprintf(who->participant, sizeof who->participant, "%s/%s", who->site, who->name);
  return TRUE;
bad:
  g_set_error(error, HC_ERROR, HC_EUNAUTHORIZED,
              "invalid token: expected ROLE:SITE:NAME with ROLE one of "
              "operator, lecturer, school, viewer");
  return FALSE;
}
