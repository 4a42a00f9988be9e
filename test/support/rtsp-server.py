#!/usr/bin/env python3
"""A real RTSP server for the video relay tests (GStreamer's RTSP server through python3-gi).

Serves one H.264 test pattern WITH an AAC audio track at rtsp://127.0.0.1:<port>/<mount>,
over TCP (and UDP). Optional basic authentication. Prints "READY <port>" once listening.
Run with Debian's /usr/bin/python3.

usage: rtsp-server.py [--port N] [--mount /test] [--user U --password P] [--no-audio]
"""
import argparse
import signal
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--mount', default='/test')
    ap.add_argument('--user')
    ap.add_argument('--password')
    ap.add_argument('--no-audio', action='store_true')
    ap.add_argument('--width', type=int, default=320)
    ap.add_argument('--height', type=int, default=240)
    ap.add_argument('--fps', type=int, default=15)
    args = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address('127.0.0.1')
    server.set_service(str(args.port))

    video = (
        f'videotestsrc is-live=true pattern=ball ! video/x-raw,width={args.width},height={args.height},framerate={args.fps}/1 '
        f'! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={args.fps} bitrate=300 '
        '! rtph264pay name=pay0 pt=96 config-interval=1'
    )
    audio = ' audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! avenc_aac ! rtpmp4apay name=pay1 pt=97'
    launch = '( ' + video + ('' if args.no_audio else audio) + ' )'

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)

    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, 'viewer')
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ''), token)
        server.set_auth(auth)
        perms = GstRtspServer.RTSPPermissions()
        perms.add_role('viewer')
        perms.add_permission_for_role('viewer', GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        perms.add_permission_for_role('viewer', GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.set_permissions(perms)

    server.get_mount_points().add_factory(args.mount, factory)
    if server.attach(None) == 0:
        print('ERROR could not listen', flush=True)
        return 1

    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f'READY {server.get_bound_port()}', flush=True)
    loop.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
