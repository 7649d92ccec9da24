"""``myco render``: a show to video, PNG frames or a contact sheet, with no window.

    myco render --show kai-festival --seconds 30 --size 1920x1080 --fps 30 --out festival.mp4
    myco render --show kai-festival --seconds 5 --png frames/
    myco render --show elara-mural --contact-sheet sheet.png
    myco render --show kai-festival --clips docs/clips --size 960x540   (a clip of each act, with its sound)
    myco render --venue two-projectors --output left --seconds 2 --png frames/

Deterministic: the same show, size, fps and quality give the same frames.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from installation.app.options import DEFAULT_SHOW
from installation.render.patterns import PATTERNS


def frame_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", text)
    if not match:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, e.g. 1920x1080, not {text!r}")
    width, height = int(match.group(1)), int(match.group(2))
    if width > 8192 or height > 8192:
        raise argparse.ArgumentTypeError("size is at most 8192 on a side")
    return width, height


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("render", help="render a show to video, PNG frames or a contact sheet (headless)",
                            description="Render a show headless: video through ffmpeg, PNG frames, or a "
                                        "contact sheet with one still per act and per cue.")
    parser.add_argument("--show", default=DEFAULT_SHOW, help=f"show name (default {DEFAULT_SHOW})")
    parser.add_argument("--seconds", type=float, default=None,
                        help="length of the video (default 30), or of each clip (default 20)")
    parser.add_argument("--start", type=float, default=0.0, help="start this many seconds into the show")
    parser.add_argument("--size", type=frame_size, default=None, help="WIDTHxHEIGHT (default 1920x1080; sheet 480x270)")
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    parser.add_argument("--quality", choices=("low", "medium", "high", "ultra"), default="medium")
    parser.add_argument("--agents", type=int, default=None, help="agent count (overrides the quality's)")
    parser.add_argument("--out", type=Path, help="video file (mp4, mov, mkv, webm) written with ffmpeg")
    parser.add_argument("--png", type=Path, metavar="DIR", help="write numbered PNG frames into DIR")
    parser.add_argument("--contact-sheet", type=Path, metavar="PNG", help="write a contact sheet of the show")
    parser.add_argument("--stills", type=Path, metavar="DIR",
                        help="with --contact-sheet: also write each still as its own PNG, named by act and cue")
    parser.add_argument("--clips", type=Path, metavar="DIR",
                        help="write a clip of each act's most striking moment (its main cue) into DIR, reached by "
                             "playing the show from its start; --seconds is each clip's length (default 20 here)")
    parser.add_argument("--acts", type=lambda text: [int(n) for n in text.split(",")], metavar="N,N",
                        help="with --clips: only these acts' clips (numbered from 1)")
    parser.add_argument("--warmup-hz", type=float, default=None,
                        help="with --clips: renderer steps per show second while playing between clips "
                             "(default: --fps; the headless app draws at 30; under 10 the hyphae age less than "
                             "the show, the renderer's step being at most 0.1 s)")
    parser.add_argument("--audio", action=argparse.BooleanOptionalAction, default=True,
                        help="mux the show's sound into the video (default on)")
    parser.add_argument("--venue", metavar="NAME_OR_FILE",
                        help="render what one output of this venue shows, projection mapping included (with --output)")
    parser.add_argument("--output", metavar="NAME", help="with --venue: the output to render")
    parser.add_argument("--pattern", choices=PATTERNS, help="with --venue: show this test pattern instead of the show")
    parser.add_argument("--effect", action="append", default=[], metavar="FILE",
                        help="an ISF effect over the picture (a .fs file or an ISF name); repeatable, in order")
    parser.add_argument("--isf-dir", type=Path, action="append", default=[], metavar="DIR",
                        help="look for ISF effects in DIR first (repeatable)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


class Progress:
    def __init__(self, total: int, stream: IO[str], enabled: bool, unit: str = "frames") -> None:
        self.total = max(1, total)
        self.unit = unit
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()

    def show(self, done: int) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        filled = int(30 * done / self.total)
        self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} {self.unit} "
                          f"{100 * done / self.total:5.1f}% {rate:5.1f}/s")
        if done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def _engine(args: argparse.Namespace, fps: float) -> Any:
    """The show's engine, with the ``--effect`` files over every act's (ValueError, LoadError)."""
    from installation.app.compose import build_engine
    from installation.app.options import RunOptions

    # The engine's fixed step must divide the frame time so frames land on steps.
    step_hz = fps * max(1, round(60.0 / fps))
    engine = build_engine(RunOptions(show=args.show, step_hz=step_hz, audio=False, status=None,
                                     isf_dirs=tuple(args.isf_dir)))
    for file in args.effect:
        engine.effects.add(file, fade_s=0.0, base=Path.cwd())
    return engine


AUDIO_RATE = 48000


def _sound(show: str, until: float) -> Any:
    """The show's sound from its start to ``until`` (None, said on stderr, when it cannot be made)."""
    from installation.app.compose import render_show_audio

    try:
        return render_show_audio(show, until, sample_rate=AUDIO_RATE)
    except (OSError, ValueError, RuntimeError) as error:  # the picture still renders without sound
        print(f"no audio: {error}", file=sys.stderr)
        return None


def _wav(samples: Any, start: float, seconds: float, path: Path) -> Path | None:
    """``seconds`` of ``samples`` from ``start`` as a WAV file at ``path`` (None without samples)."""
    from installation.synth.offline import write_wav

    if samples is None:
        return None
    write_wav(path, samples[round(start * AUDIO_RATE):round((start + seconds) * AUDIO_RATE)], AUDIO_RATE)
    return path


CLIP_VIDEO_KBPS = 600  # with 128 kb/s of sound, a 20 s clip stays under 2 MB (the repository keeps them)


def _ffmpeg(out: Path, size: tuple[int, int], fps: float, audio: Path | None,
            video_kbps: int | None = None) -> subprocess.Popen[bytes]:
    """An ffmpeg taking raw RGB frames on stdin; ``video_kbps`` caps the picture's bit rate."""
    binary = shutil.which("ffmpeg")
    if binary is None:
        raise SystemExit("ffmpeg is not installed; use --png DIR for frames")
    width, height = size
    command = [binary, "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
               "-r", f"{fps:g}", "-i", "-"]
    if audio is not None:
        command += ["-i", str(audio), "-c:a", "aac", "-b:a", "128k" if video_kbps else "192k", "-shortest"]
    if out.suffix == ".webm":
        codec = ["-c:v", "libvpx-vp9", "-b:v", f"{video_kbps}k" if video_kbps else "0", "-crf", "32"]
    else:
        codec = ["-c:v", "libx264", "-preset", "medium", "-crf", "23" if video_kbps else "18", "-pix_fmt", "yuv420p"]
        if video_kbps:
            codec += ["-maxrate", f"{video_kbps}k", "-bufsize", f"{2 * video_kbps}k", "-movflags", "+faststart"]
    return subprocess.Popen([*command, *codec, str(out)], stdin=subprocess.PIPE)


def _write(frames: Iterable[Any], encoder: subprocess.Popen[bytes] | None, png: Path | None,
           progress: Progress) -> int:
    """Each frame to ffmpeg and/or as a numbered PNG; ffmpeg's status (0 without one)."""
    from PIL import Image

    try:
        for number, image in enumerate(frames):
            if encoder is not None and encoder.stdin is not None:
                try:
                    encoder.stdin.write(image.tobytes())
                except BrokenPipeError:  # ffmpeg stopped; its status says why
                    break
            if png is not None:
                Image.fromarray(image).save(png / f"frame_{number:05d}.png")
            progress.show(number + 1)
    finally:
        if encoder is not None and encoder.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                encoder.stdin.close()
    return encoder.wait() if encoder is not None else 0


def _video(args: argparse.Namespace, size: tuple[int, int]) -> int:
    from installation.app.clips import start_at
    from installation.render.headless import ShowDriver
    from installation.render.offscreen import Offscreen

    engine = _engine(args, args.fps)
    canvas, shot = _venue_output(args, size)
    offscreen = Offscreen(size, args.quality, canvas=canvas, output=shot, agents=args.agents,
                          seed=engine.seed.rng_seed)
    driver = ShowDriver(engine, offscreen, args.fps)
    count = max(1, round(args.seconds * args.fps))
    start_at(driver, args.start)  # a little early, so the hyphae have woven their network by the first frame
    if args.png:
        args.png.mkdir(parents=True, exist_ok=True)
    progress = Progress(count, sys.stderr, not args.no_progress)
    with tempfile.TemporaryDirectory() as scratch:
        sound = _sound(args.show, args.start + args.seconds) if args.out and args.audio else None
        audio = _wav(sound, args.start, args.seconds, Path(scratch) / "audio.wav")
        encoder = _ffmpeg(args.out, size, args.fps, audio) if args.out else None
        status = _write(driver.frames(count), encoder, args.png, progress)
    for problem in offscreen.world.errors:
        print(problem, file=sys.stderr)
    offscreen.close()
    if status:
        print(f"ffmpeg failed with status {status}", file=sys.stderr)
        return 1
    return 0


def _clips(args: argparse.Namespace, size: tuple[int, int]) -> int:
    """Every act's clip, in one pass through the show; ``clips.txt`` in the folder says which moment
    each is and why."""
    from installation.app.clips import act_clips, play_clips
    from installation.render.headless import ShowDriver
    from installation.render.offscreen import Offscreen

    warmup_hz = args.warmup_hz or args.fps
    engine = _engine(args, args.fps)
    if abs(engine.dt * warmup_hz * round(1 / (engine.dt * warmup_hz)) - 1) > 1e-6:
        raise ValueError(f"--warmup-hz {warmup_hz:g} must divide the engine's {1 / engine.dt:g} Hz step")
    offscreen = Offscreen(size, args.quality, agents=args.agents, seed=engine.seed.rng_seed)
    driver = ShowDriver(engine, offscreen, args.fps)
    clips = [clip for clip in act_clips(engine.player.show, args.seconds)
             if not args.acts or clip.act_index + 1 in args.acts]
    if not clips:
        raise ValueError(f"no act {args.acts} in the show")
    args.clips.mkdir(parents=True, exist_ok=True)
    sound = _sound(args.show, max(c.start_s + c.seconds for c in clips)) if args.audio else None
    lines = [f"# {engine.player.show.title}: a clip of each act ({size[0]}x{size[1]}, {args.quality} quality, "
             f"{args.fps:g} fps, played from the show's start at {warmup_hz:g} renderer steps a second)"]
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        for clip, frames in play_clips(driver, clips, args.fps, warmup_hz):
            out = args.clips / f"{args.show}-{clip.name}.mp4"
            audio = _wav(sound, clip.start_s, clip.seconds, Path(scratch) / "audio.wav")
            progress = Progress(round(clip.seconds * args.fps), sys.stderr, not args.no_progress)
            if _write(frames, _ffmpeg(out, size, args.fps, audio, CLIP_VIDEO_KBPS), None, progress):
                print(f"ffmpeg failed on {out}", file=sys.stderr)
                failed += 1
                continue
            act_t = clip.start_s - engine.player.show.act_start(clip.act_index)
            lines.append(f"{out.name}\tact {clip.act_index + 1} {clip.act_title}\t"
                         f"{act_t:g}-{act_t + clip.seconds:g} s into the act\t{clip.why}")
            print(f"wrote {out}", file=sys.stderr)
    (args.clips / f"{args.show}-clips.txt").write_text("\n".join(lines) + "\n")
    for problem in offscreen.world.errors:
        print(problem, file=sys.stderr)
    offscreen.close()
    return 1 if failed else 0


def _venue_output(args: argparse.Namespace, size: tuple[int, int]) -> tuple[tuple[int, int] | None, Any]:
    """With ``--venue``: the canvas and what the ``--output`` shows of it (LoadError, KeyError
    naming the outputs); without, the whole canvas at ``size``."""
    if not args.venue:
        return None, None
    from installation.core.venue import load_venue, venue_path
    from installation.render.offscreen import OutputShot

    venue = load_venue(venue_path(args.venue))
    output = venue.output(args.output)
    x0, y0, x1, y1 = output.region
    # without one in the venue, a canvas that gives the output's region ``size`` pixels
    canvas = venue.canvas or (round(size[0] / (x1 - x0)), round(size[1] / (y1 - y0)))
    return canvas, OutputShot(output.region, output.mapping, args.pattern)


def _sheet(args: argparse.Namespace, size: tuple[int, int]) -> int:
    from installation.render.headless import ShowDriver, contact_sheet, save_stills, show_stills, take_stills
    from installation.render.offscreen import Offscreen

    fps = min(args.fps, 15.0)  # stills need the hyphae, not smooth motion
    engine = _engine(args, fps)
    offscreen = Offscreen(size, args.quality, agents=args.agents, seed=engine.seed.rng_seed)
    driver = ShowDriver(engine, offscreen, fps)
    stills = show_stills(engine.player.show)
    progress = Progress(len(stills), sys.stderr, not args.no_progress, "stills")
    shots = []
    for index, still in enumerate(stills):
        shots.extend(take_stills(driver, [still]))
        progress.show(index + 1)
    contact_sheet(engine.player.show.title, shots).save(args.contact_sheet)
    if args.stills:
        save_stills(shots, args.stills)
    offscreen.close()
    print(f"wrote {args.contact_sheet}: {len(shots)} stills", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    from installation.core.errors import LoadError

    if not (args.out or args.png or args.contact_sheet or args.clips):
        print("nothing to write: give --out FILE, --png DIR, --contact-sheet PNG or --clips DIR", file=sys.stderr)
        return 2
    if args.clips and (args.out or args.png or args.contact_sheet or args.venue or args.start):
        print("--clips writes its own files from the show's start: not with --out, --png, --contact-sheet, "
              "--venue or --start", file=sys.stderr)
        return 2
    if ((args.warmup_hz is not None or args.acts) and not args.clips) or (args.warmup_hz or 1) <= 0:
        print("--warmup-hz (positive) and --acts go with --clips", file=sys.stderr)
        return 2
    if args.seconds is None:
        args.seconds = 20.0 if args.clips else 30.0
    if bool(args.venue) != bool(args.output) or (args.pattern and not args.venue):
        print("--venue and --output go together (--pattern with them)", file=sys.stderr)
        return 2
    if args.stills and not args.contact_sheet:
        print("--stills goes with --contact-sheet", file=sys.stderr)
        return 2
    if args.venue and args.contact_sheet:
        print("--venue renders video or PNG frames of one output, not a contact sheet", file=sys.stderr)
        return 2
    if args.seconds <= 0 or args.fps <= 0 or args.start < 0:
        print("--seconds and --fps must be positive, --start not negative", file=sys.stderr)
        return 2
    try:
        if args.contact_sheet:
            return _sheet(args, args.size or (480, 270))
        if args.clips:
            return _clips(args, args.size or (960, 540))
        return _video(args, args.size or (1920, 1080))
    except (LoadError, ValueError) as error:  # a show, preset, venue or --effect file that cannot be used
        print(error, file=sys.stderr)
        return 1
    except KeyError as error:  # no such output in the venue
        print(error.args[0], file=sys.stderr)
        return 2
