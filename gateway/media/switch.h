/* Camera switching: a stream with url=switch://cam1,cam2,... shows one of
 * other streams (the cameras of a hall) at a time. Its source is an appsrc
 * per track fed with the selected camera's parsed H.264 and Opus (taps on
 * every stream's tees); a switch takes effect on the new camera's next
 * keyframe. The switch stream packetises once like any stream, so viewers
 * keep continuous sequence numbers and timestamps and need no
 * renegotiation, and its HLS follows. Main thread unless said otherwise. */
#ifndef HC_MEDIA_SWITCH_H
#define HC_MEDIA_SWITCH_H

#include <hallcast/plugin.h>

/* The switch:// source and the taps (an output on every stream); main.c
 * registers both with the plugins. */
extern const HcPlugin hc_switch_source_plugin;
extern const HcPlugin hc_switch_tap_plugin;

/* Main thread: switch stream name to camera to at its next keyframe.
 * HC_ENOTFOUND (no such switch stream), HC_EINVAL (to is not one of its
 * cameras); 0 when the switch is pending or to is shown already. */
int hc_switch_to(const char *name, const char *to);
/* Main thread: the camera shown (a copy) and the one switched to next (a
 * copy, NULL if none); FALSE if name is not a switch stream. */
gboolean hc_switch_state(const char *name, char **current, char **pending);

/* Any thread: TRUE if a switch stream shows camera, or switches to it at
 * its next keyframe (it needs that camera's Opus). */
gboolean hc_switch_shows(const char *camera);

#endif
