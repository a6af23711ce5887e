"""A small gallery of real files with known dates and metadata, shared by the index API tests."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from index_helpers import (comfy_prompt, ui_workflow, write_jpeg, write_png, write_truncated_png, write_video,
                           write_webp_comfy)

T0 = dt.datetime(2024, 3, 1, 12, 0, 0).timestamp()
QUIET = {"ImageViewer": {"scan_in_process": "true", "watch_mode": "off", "rescan_interval_min": "0"}}


def make_video_bytes(folder: Path) -> bytes:
    target = folder / "v.mp4"
    write_video(target, prompt=comfy_prompt("video of a hummingbird", ckpt="wan2.1.safetensors"),
                workflow=ui_workflow("video of a hummingbird"))
    return target.read_bytes()


def build_gallery(out: Path, video: bytes) -> None:
    """Nine files in four folders plus two in the trash, with known dates and metadata."""
    def at(path: Path, hours: float) -> None:
        os.utime(path, (T0 + hours * 3600, T0 + hours * 3600))

    at(write_png(out / "r1.png", prompt=comfy_prompt("a red fox in the snow", lora="detail_tweaker.safetensors",
                                                     ckpt="juggernaut.safetensors", sampler="euler"),
                 workflow=ui_workflow("a red fox in the snow", note="winter series")), 1)
    at(write_jpeg(out / "r2.jpg", user_comment="a blue whale\nNegative prompt: ugly\nSteps: 20, Sampler: Euler a, "
                                               "CFG scale: 7, Seed: 5, Size: 40x30, Model: dreamshaper"), 2)
    at(write_png(out / "portraits" / "p1.png", size=(200, 150),
                 prompt=comfy_prompt("portrait of an old sailor", ckpt="sdxl.safetensors", sampler="dpmpp_2m"),
                 workflow=ui_workflow("portrait of an old sailor")), 3)
    at(write_webp_comfy(out / "portraits" / "sub" / "p2.webp", prompt=comfy_prompt("portrait of a knight"),
                        workflow=ui_workflow("portrait of a knight")), 4)
    at(write_png(out / "portraits" / "sub" / "deeper" / "p3.png"), 5)
    (out / "portraits" / "sub" / "deeper" / "edit").mkdir()
    (out / "portraits" / "sub" / "deeper" / "edit" / "p3.edt").write_text("{}")
    at(write_png(out / "landscapes" / "l1.png", parameters="mountain lake at dawn\nNegative prompt: people\n"
                                                         "Steps: 30, Sampler: DPM++ 2M, CFG scale: 5, Seed: 9, "
                                                         "Size: 32x24, Model: realvis"), 6)
    at(write_truncated_png(out / "landscapes" / "broken.png"), 7)
    at(write_png(out / "landscapes" / "l2.png"), 8)
    (out / "landscapes" / "l2.txt").write_text("misty pine forest\nSteps: 10, Sampler: Euler, CFG scale: 4, Seed: 1, Size: 32x24")
    (out / "videos").mkdir()
    (out / "videos" / "v1.mp4").write_bytes(video)
    at(out / "videos" / "v1.mp4", 9)
    at(write_png(out / "trashcan" / "old" / "t1.png", prompt=comfy_prompt("a discarded teapot")), 10)
    at(write_png(out / "trashcan" / "t2.png", prompt=comfy_prompt("portrait of a ghost")), 11)


TRASH = ["trashcan/old/t1.png", "trashcan/t2.png"]
GALLERY = ["r1.png", "r2.jpg", "portraits/p1.png", "portraits/sub/p2.webp", "portraits/sub/deeper/p3.png",
           "landscapes/l1.png", "landscapes/broken.png", "landscapes/l2.png", "videos/v1.mp4"]


async def synced(cli) -> dict:
    resp = await cli.post("/holaf/images/maintenance/sync-database", json={"wait": True})
    assert resp.status == 200, await resp.text()
    return (await resp.json())["result"]


async def listing(cli, **body) -> dict:
    resp = await cli.post("/holaf/images/list", json=body)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def paths(cli, **body) -> list[str]:
    return [item["path"] for item in (await listing(cli, **body))["images"]]
