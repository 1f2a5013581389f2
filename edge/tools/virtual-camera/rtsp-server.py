#!/usr/bin/python3
"""RTSP side of the virtual camera: Debian's gst-rtsp-server serving a looping clip.

Started by rtsp-server.process.ts. Serves one H.264 mount per requested stream
(path + size) over RTP/UDP and RTP/RTSP/TCP (interleaved).

Each mount is a *live* source, like a camera: a private player pipeline decodes
the clip at real time (its appsink syncs to the clock) and loops it with a
flushing seek on end of stream; every decoded frame is handed to the RTSP
pipeline's live appsrc, which stamps it with its own running time. So clients
see one endless stream with monotonic timestamps, no duration, not seekable,
and a new client joins the current picture instead of getting a backlog.

Prints one line `READY <port>` on stdout once the listening socket is bound;
exits on SIGTERM / SIGINT.
"""

import argparse
import ctypes
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def parse_stream(spec):
    # "/stream1=768x576" -> ("/stream1", 768, 576)
    path, size = spec.split("=", 1)
    width, height = size.lower().split("x", 1)
    if not path.startswith("/"):
        raise argparse.ArgumentTypeError("stream path must start with /: " + spec)
    return path, int(width), int(height)


def quote(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ClipPlayer:
    """Decodes the clip at real time, forever, and hands each frame to a callback."""

    def __init__(self, clip, raw_caps, on_frame):
        self.pipeline = Gst.parse_launch(
            f"filesrc location={quote(clip)} ! decodebin ! videoconvert ! videoscale ! {raw_caps} ! "
            "appsink name=sink sync=true max-buffers=2 drop=true emit-signals=true"
        )
        self.on_frame = on_frame
        self.pipeline.get_by_name("sink").connect("new-sample", self._on_sample)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message::eos", self._on_eos)
        bus.connect("message::error", self._on_error)

    def _on_sample(self, sink):
        sample = sink.emit("pull-sample")
        if sample is not None:
            self.on_frame(sample.get_buffer())
        return Gst.FlowReturn.OK

    def _on_eos(self, _bus, _message):
        # Looping restarts this private pipeline's clock; the RTSP side re-stamps frames.
        self.pipeline.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0)

    def _on_error(self, _bus, message):
        error, _debug = message.parse_error()
        print("ERROR player: %s" % error.message, file=sys.stderr, flush=True)

    def start(self):
        self.pipeline.set_state(Gst.State.PLAYING)

    def stop(self):
        self.pipeline.get_bus().remove_signal_watch()
        self.pipeline.set_state(Gst.State.NULL)


class LiveClipFactory(GstRtspServer.RTSPMediaFactory):
    """One shared live media per mount, fed by a ClipPlayer while any client is connected."""

    def __init__(self, clip, width, height, fps):
        super().__init__()
        self.clip = clip
        self.raw_caps = f"video/x-raw,format=I420,width={width},height={height},pixel-aspect-ratio=1/1"
        self.frame_duration = Gst.util_uint64_scale(Gst.SECOND, fps[1], fps[0])
        # Keyframe every second so a client joining the shared stream decodes quickly;
        # config-interval=-1 repeats SPS/PPS with each IDR like cameras do.
        gop = max(1, round(fps[0] / fps[1]))
        self.set_launch(
            f"( appsrc name=src is-live=true format=time do-timestamp=true max-buffers=2 leaky-type=downstream "
            f'caps="{self.raw_caps},framerate={fps[0]}/{fps[1]}" ! '
            f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate=1500 threads=1 ! "
            "video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
        )
        self.set_shared(True)
        self.connect("media-configure", self._on_media_configure)

    def _on_media_configure(self, _factory, media):
        appsrc = media.get_element().get_by_name("src")
        frame_duration = self.frame_duration

        def push(buffer):
            # A shallow copy shares the pixels; clearing the player's timestamps lets the
            # live appsrc stamp the frame with the RTSP pipeline's running time.
            frame = buffer.copy()
            frame.pts = Gst.CLOCK_TIME_NONE
            frame.dts = Gst.CLOCK_TIME_NONE
            frame.duration = frame_duration
            appsrc.emit("push-buffer", frame)

        player = ClipPlayer(self.clip, self.raw_caps, push)
        media.connect("unprepared", lambda _media: player.stop())
        player.start()


def die_with_parent():
    # PR_SET_PDEATHSIG: if the Node process that started us dies without stopping us, the kernel
    # kills us, so no orphaned server keeps a port or the CPU busy. SIGKILL because a server
    # frozen with SIGSTOP (a simulated hung camera) would never act on SIGTERM.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


def main():
    die_with_parent()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clip", required=True)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--fps", default="25/1", help="frame rate of the clip as num/den")
    parser.add_argument("--stream", action="append", type=parse_stream, required=True, help="/path=WxH")
    parser.add_argument("--transport", choices=["tcp+udp", "tcp", "udp"], default="tcp+udp")
    # Credentials come through the environment so they never show in `ps`.
    parser.add_argument("--username-env", help="require RTSP Digest auth; user name in this env variable")
    parser.add_argument("--password-env", help="password for --username-env, in this env variable")
    args = parser.parse_args()
    username = os.environ.get(args.username_env, "") if args.username_env else ""
    password = os.environ.get(args.password_env, "") if args.password_env else ""

    Gst.init(None)
    fps = tuple(int(x) for x in args.fps.split("/", 1))

    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))

    protocols = {
        "tcp+udp": GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP,
        "tcp": GstRtsp.RTSPLowerTrans.TCP,
        "udp": GstRtsp.RTSPLowerTrans.UDP,
    }[args.transport]

    permissions = None
    if username:
        auth = GstRtspServer.RTSPAuth()
        # Digest like most cameras (PyGObject cannot OR this enum to offer Basic as well).
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
        auth.add_digest(username, password, token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_role("viewer")
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)

    mounts = server.get_mount_points()
    for path, width, height in args.stream:
        factory = LiveClipFactory(args.clip, width, height, fps)
        factory.set_protocols(protocols)
        if permissions is not None:
            factory.set_permissions(permissions)
        mounts.add_factory(path, factory)

    if server.attach(None) == 0:
        print("ERROR cannot bind %s:%d" % (args.address, args.port), file=sys.stderr, flush=True)
        sys.exit(2)

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, loop.quit)

    print("READY %d" % server.get_bound_port(), flush=True)
    loop.run()


if __name__ == "__main__":
    main()
