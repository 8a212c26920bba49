/* The log writer installed by main.c: filters by the configured level and
 * prints one line per message with a timestamp and the module's domain. */
#include "log.h"

#include <stdio.h>
#include <string.h>

static GLogLevelFlags max_level = G_LOG_LEVEL_INFO;
static gboolean installed;

static const char *
level_name(GLogLevelFlags l)
{
  if (l & G_LOG_LEVEL_ERROR)
    return "ERROR";
  if (l & G_LOG_LEVEL_CRITICAL)
    return "CRITICAL";
  if (l & G_LOG_LEVEL_WARNING)
    return "WARNING";
  if (l & G_LOG_LEVEL_MESSAGE)
    return "MESSAGE";
  if (l & G_LOG_LEVEL_INFO)
    return "INFO";
  return "DEBUG";
}

gboolean
hc_log_enabled(GLogLevelFlags level)
{
  /* GLib levels: a smaller bit is more severe. */
  return (level & G_LOG_LEVEL_MASK) <= max_level;
}

static GLogWriterOutput
writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
  const char *domain = "hallcast", *msg = "";
  GDateTime *now;
  char *ts;

  if (!hc_log_enabled(level & G_LOG_LEVEL_MASK))
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n; i++) {
    if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].value)
      domain = fields[i].value;
    else if (strcmp(fields[i].key, "MESSAGE") == 0 && fields[i].value)
      msg = fields[i].value;
  }
  now = g_date_time_new_now_local();
  ts = g_date_time_format(now, "%H:%M:%S.%f");
  ts[12] = '\0'; /* milliseconds are enough */
  fprintf(stderr, "%s %-8s %s: %s\n", ts, level_name(level), domain, msg);
  g_free(ts);
  g_date_time_unref(now);
  return G_LOG_WRITER_HANDLED;
}

void
hc_log_init(const char *level)
{
  if (g_strcmp0(level, "error") == 0)
    max_level = G_LOG_LEVEL_CRITICAL;
  else if (g_strcmp0(level, "warning") == 0)
    max_level = G_LOG_LEVEL_WARNING;
  else if (g_strcmp0(level, "debug") == 0)
    max_level = G_LOG_LEVEL_DEBUG;
  else
    max_level = G_LOG_LEVEL_INFO;
  /* GLib allows one writer per process; later calls only change the level. */
  if (!installed) {
    installed = TRUE;
    g_log_set_writer_func(writer, NULL, NULL);
  }
}
