"""Helpers for the metadata tests: real files written the way each tool writes them,
and hand-written ComfyUI API graphs for each pipeline shape.

Nothing here mocks the library: files are produced by Pillow, ffmpeg or
byte-exact builders that follow the container specs.
"""
from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

from PIL import Image, PngImagePlugin

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")


def metadata_api():
    """The package under test, imported the way standalone mode loads it."""
    from holaf_utilities.holaf_image_viewer_backend import metadata
    return metadata


# ----------------------------------------------------------------- PNG bytes
def png_chunk(ctype: bytes, data: bytes, *, bad_crc: bool = False) -> bytes:
    crc = zlib.crc32(ctype + data)
    if bad_crc:
        crc ^= 0xFFFFFFFF
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def text_chunk(key: str, value: str) -> bytes:
    return png_chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))


def ztxt_chunk(key: str, value: str) -> bytes:
    return png_chunk(b"zTXt", key.encode("latin-1") + b"\0\0" + zlib.compress(value.encode("latin-1")))


def itxt_chunk(key: str, value: str, compressed: bool = False) -> bytes:
    body = value.encode("utf-8")
    if compressed:
        body = zlib.compress(body)
    return png_chunk(b"iTXt", key.encode("latin-1") + b"\0" + bytes([1 if compressed else 0, 0]) + b"\0\0" + body)


def png_bytes(width: int = 2, height: int = 2, before=(), after=(), *, idat: bytes | None = None) -> bytes:
    """A valid RGB PNG with extra chunks before and after its image data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    if idat is None:
        raw = b"".join(b"\0" + b"\x80" * (3 * width) for _ in range(height))
        idat = zlib.compress(raw)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + b"".join(before) + png_chunk(b"IDAT", idat)
            + b"".join(after) + png_chunk(b"IEND", b""))


def save_png_pillow(path: Path, texts: dict, size=(64, 48), *, itxt_keys=(), ztxt_keys=()) -> Path:
    """PNG written by Pillow's PngInfo (tEXt by default, iTXt/zTXt on request)."""
    info = PngImagePlugin.PngInfo()
    for k, v in texts.items():
        if k in itxt_keys:
            info.add_itxt(k, v)
        elif k in ztxt_keys:
            info.add_text(k, v, zip=True)
        else:
            info.add_text(k, v)
    Image.new("RGB", size, (200, 30, 30)).save(path, "PNG", pnginfo=info)
    return path


def save_apng_with_comf(path: Path, entries: dict, size=(32, 32), frames: int = 3) -> Path:
    """APNG as ComfyUI's SaveAnimatedPNG writes it: frames by Pillow, then private
    ``comf`` chunks (``key\\0json`` in Latin-1) inserted after the image data."""
    imgs = [Image.new("RGB", size, (i * 60, 0, 0)) for i in range(frames)]
    buf = io.BytesIO()
    imgs[0].save(buf, "PNG", save_all=True, append_images=imgs[1:], duration=100, loop=0)
    data = buf.getvalue()
    comf = b"".join(png_chunk(b"comf", k.encode("latin-1") + b"\0" + json.dumps(v).encode("latin-1"))
                    for k, v in entries.items())
    iend = data.rindex(b"IEND") - 4
    path.write_bytes(data[:iend] + comf + data[iend:])
    return path


# ---------------------------------------------------------------- EXIF bytes
def comfy_exif(prompt: dict | None, workflow: dict | None, extra: dict | None = None) -> bytes:
    """EXIF as ComfyUI's SaveAnimatedWEBP writes it (Model = prompt:, Make = workflow:, then 0x010E...)."""
    ex = Image.Exif()
    if prompt is not None:
        ex[0x0110] = "prompt:" + json.dumps(prompt)
    tag = 0x010F
    for k, v in ([("workflow", workflow)] if workflow is not None else []) + list((extra or {}).items()):
        ex[tag] = f"{k}:" + json.dumps(v)
        tag -= 1
    return ex.tobytes()


def usercomment_exif(text: str, *, encoding: str = "utf-16-be", header: bytes = b"UNICODE\0",
                     big_endian_tiff: bool = True, bom: bool = False) -> bytes:
    """EXIF holding only ExifIFD/UserComment (type UNDEFINED), byte-exact like piexif.

    ``encoding`` and ``header`` choose the layout: UTF-16 in either order (with
    an optional BOM), ``ASCII\\0\\0\\0`` or no header at all (raw UTF-8)."""
    body = text.encode(encoding)
    if bom:
        body = (b"\xfe\xff" if encoding.endswith("be") else b"\xff\xfe") + body
    payload = header + body
    e = ">" if big_endian_tiff else "<"
    tiff = (b"MM\x00\x2a" if big_endian_tiff else b"II\x2a\x00") + struct.pack(e + "I", 8)
    ifd0 = struct.pack(e + "H", 1) + struct.pack(e + "HHII", 0x8769, 4, 1, 26) + struct.pack(e + "I", 0)
    exif_ifd = struct.pack(e + "H", 1) + struct.pack(e + "HHII", 0x9286, 7, len(payload), 44) + struct.pack(e + "I", 0)
    return b"Exif\x00\x00" + tiff + ifd0 + exif_ifd + payload


def save_jpeg(path: Path, *, exif: bytes | None = None, comment: str | None = None, size=(64, 48)) -> Path:
    kw = {}
    if exif is not None:
        kw["exif"] = exif
    if comment is not None:
        kw["comment"] = comment
    Image.new("RGB", size, (10, 120, 200)).save(path, "JPEG", quality=80, **kw)
    return path


def save_webp(path: Path, *, exif: bytes | None = None, size=(64, 48), frames: int = 1, lossless=False) -> Path:
    imgs = [Image.new("RGB", size, (i * 40, 200, 10)) for i in range(frames)]
    kw = {"exif": exif} if exif is not None else {}
    if frames > 1:
        imgs[0].save(path, "WEBP", save_all=True, append_images=imgs[1:], duration=100, loop=0, **kw)
    else:
        imgs[0].save(path, "WEBP", lossless=lossless, **kw)
    return path


# -------------------------------------------------------------- ffmpeg media
def run_ffmpeg(args: list) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + args, check=True)


def ffmeta_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("=", "\\=").replace(";", "\\;").replace("#", "\\#").replace("\n", "\\\n")


def make_video(path: Path, *, tags: dict | None = None, size=(64, 48), fps: int = 8, seconds: float = 1.0,
               audio: bool = False, use_metadata_tags: bool = False) -> Path:
    """A short clip with container tags written through an ffmetadata file (as VHS does)."""
    w, h = size
    args = ["-f", "lavfi", "-i", f"testsrc2=s={w}x{h}:r={fps}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    meta_file = None
    if tags:
        meta_file = path.with_suffix(path.suffix + ".ffmeta")
        meta_file.write_text(";FFMETADATA1\n" + "\n".join(f"{k}={ffmeta_escape(v)}" for k, v in tags.items()) + "\n",
                             encoding="utf-8")
        args += ["-f", "ffmetadata", "-i", str(meta_file)]
        args += ["-map", "0:v"] + (["-map", "1:a"] if audio else []) + ["-map_metadata", "2" if audio else "1"]
    ext = path.suffix.lower()
    if ext == ".webm":
        args += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"]
        if audio:
            args += ["-c:a", "libopus"]
    else:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        if audio:
            args += ["-c:a", "aac"]
    if use_metadata_tags:
        args += ["-movflags", "use_metadata_tags"]
    run_ffmpeg(args + ["-t", str(seconds), str(path)])
    if meta_file is not None:
        meta_file.unlink()
    return path


def make_audio(path: Path, *, tags: dict | None = None, seconds: float = 1.0) -> Path:
    args = ["-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}"]
    for k, v in (tags or {}).items():
        args += ["-metadata", f"{k}={v}"]
    if path.suffix.lower() == ".m4a":
        args += ["-c:a", "aac", "-movflags", "use_metadata_tags"]
    elif path.suffix.lower() == ".ogg":
        args += ["-c:a", "libvorbis"]
    run_ffmpeg(args + [str(path)])
    return path


# ------------------------------------------------------ hand-written graphs
def _n(ct, **inputs):
    return {"class_type": ct, "inputs": inputs, "_meta": {"title": ct}}


def graph_basic(pos="a red fox in the snow, watercolor", neg="blurry, lowres", seed=1234, steps=20, cfg=7.0,
                ckpt="dreamshaper_8.safetensors"):
    """Checkpoint → two CLIPTextEncode → KSampler ← EmptyLatentImage → VAEDecode → SaveImage."""
    return {
        "4": _n("CheckpointLoaderSimple", ckpt_name=ckpt),
        "6": _n("CLIPTextEncode", text=pos, clip=["4", 1]),
        "7": _n("CLIPTextEncode", text=neg, clip=["4", 1]),
        "5": _n("EmptyLatentImage", width=512, height=768, batch_size=1),
        "3": _n("KSampler", seed=seed, steps=steps, cfg=cfg, sampler_name="euler", scheduler="normal", denoise=1.0,
                model=["4", 0], positive=["6", 0], negative=["7", 0], latent_image=["5", 0]),
        "8": _n("VAEDecode", samples=["3", 0], vae=["4", 2]),
        "9": _n("SaveImage", filename_prefix="ComfyUI", images=["8", 0]),
    }


def graph_flux():
    """Flux: UNETLoader, FluxGuidance, RandomNoise, KSamplerSelect, BasicScheduler, BasicGuider,
    SamplerCustomAdvanced, EmptySD3LatentImage."""
    return {
        "1": _n("UNETLoader", unet_name="flux1-dev.safetensors", weight_dtype="default"),
        "2": _n("DualCLIPLoader", clip_name1="t5xxl_fp16.safetensors", clip_name2="clip_l.safetensors", type="flux"),
        "3": _n("CLIPTextEncode", text="a cat astronaut, 35mm film photo", clip=["2", 0]),
        "4": _n("FluxGuidance", guidance=3.5, conditioning=["3", 0]),
        "5": _n("RandomNoise", noise_seed=987654321),
        "6": _n("KSamplerSelect", sampler_name="euler"),
        "7": _n("BasicScheduler", scheduler="simple", steps=28, denoise=1.0, model=["1", 0]),
        "8": _n("BasicGuider", model=["1", 0], conditioning=["4", 0]),
        "9": _n("EmptySD3LatentImage", width=1024, height=1024, batch_size=1),
        "10": _n("SamplerCustomAdvanced", noise=["5", 0], guider=["8", 0], sampler=["6", 0], sigmas=["7", 0],
                 latent_image=["9", 0]),
        "11": _n("VAEDecode", samples=["10", 0], vae=["12", 0]),
        "12": _n("VAELoader", vae_name="ae.safetensors"),
        "13": _n("SaveImage", filename_prefix="Flux", images=["11", 0]),
    }


def graph_sdxl_refiner():
    """SDXL base + refiner: two KSamplerAdvanced, the second fed by the first's latent."""
    return {
        "1": _n("CheckpointLoaderSimple", ckpt_name="sd_xl_base_1.0.safetensors"),
        "2": _n("CheckpointLoaderSimple", ckpt_name="sd_xl_refiner_1.0.safetensors"),
        "3": _n("CLIPTextEncodeSDXL", width=1024, height=1024, crop_w=0, crop_h=0, target_width=1024,
                target_height=1024, text_g="a lighthouse on a cliff", text_l="a lighthouse on a cliff", clip=["1", 1]),
        "4": _n("CLIPTextEncodeSDXL", width=1024, height=1024, crop_w=0, crop_h=0, target_width=1024,
                target_height=1024, text_g="ugly", text_l="ugly", clip=["1", 1]),
        "5": _n("CLIPTextEncodeSDXLRefiner", ascore=6, width=1024, height=1024, text="a lighthouse, refined",
                clip=["2", 1]),
        "6": _n("CLIPTextEncodeSDXLRefiner", ascore=2.5, width=1024, height=1024, text="ugly", clip=["2", 1]),
        "7": _n("EmptyLatentImage", width=1024, height=1024, batch_size=1),
        "10": _n("KSamplerAdvanced", add_noise="enable", noise_seed=42, steps=30, cfg=7.5, sampler_name="dpmpp_2m",
                 scheduler="karras", start_at_step=0, end_at_step=24, return_with_leftover_noise="enable",
                 model=["1", 0], positive=["3", 0], negative=["4", 0], latent_image=["7", 0]),
        "11": _n("KSamplerAdvanced", add_noise="disable", noise_seed=42, steps=30, cfg=7.5, sampler_name="dpmpp_2m",
                 scheduler="karras", start_at_step=24, end_at_step=10000, return_with_leftover_noise="disable",
                 model=["2", 0], positive=["5", 0], negative=["6", 0], latent_image=["10", 0]),
        "12": _n("VAEDecode", samples=["11", 0], vae=["2", 2]),
        "13": _n("SaveImage", filename_prefix="sdxl", images=["12", 0]),
    }


def graph_hires():
    """Hires fix: the second KSampler (ids sorted first on purpose) refines an upscaled latent."""
    g = graph_basic(pos="a koi pond at dusk", seed=111, steps=25)
    g["1"] = _n("LatentUpscaleBy", upscale_method="nearest-exact", scale_by=2.0, samples=["3", 0])
    g["2"] = _n("KSampler", seed=112, steps=12, cfg=7.0, sampler_name="euler", scheduler="normal", denoise=0.5,
                model=["4", 0], positive=["6", 0], negative=["7", 0], latent_image=["1", 0])
    g["8"]["inputs"]["samples"] = ["2", 0]
    return g


def graph_custom_text():
    """Positive prompt from a custom text node, joined by a concat node, through a link."""
    g = graph_basic()
    g["20"] = _n("CR Prompt Text", prompt="a samurai under cherry blossoms")
    g["21"] = _n("PrimitiveStringMultiline", value="ukiyo-e woodblock print")
    g["22"] = _n("StringConcatenate", string_a=["20", 0], string_b=["21", 0], delimiter=", ")
    g["6"]["inputs"]["text"] = ["22", 0]
    return g


def graph_reroute_primitive():
    """Seed from a primitive node, text through a pass-through string node, conditioning via ControlNet."""
    g = graph_basic()
    g["30"] = _n("PrimitiveInt", value=555)
    g["3"]["inputs"]["seed"] = ["30", 0]
    g["31"] = _n("String Literal", string="a corgi wearing sunglasses")
    g["6"]["inputs"]["text"] = ["31", 0]
    g["32"] = _n("ControlNetLoader", control_net_name="control_canny.safetensors")
    g["33"] = _n("ControlNetApplyAdvanced", strength=0.8, start_percent=0.0, end_percent=1.0, positive=["6", 0],
                 negative=["7", 0], control_net=["32", 0], image=["34", 0])
    g["34"] = _n("LoadImage", image="edges.png")
    g["3"]["inputs"]["positive"] = ["33", 0]
    g["3"]["inputs"]["negative"] = ["33", 1]
    return g


def graph_lora_chain():
    """Two LoraLoaders and a LoraLoaderModelOnly stacked between checkpoint and sampler."""
    g = graph_basic()
    g["40"] = _n("LoraLoader", lora_name="add_detail.safetensors", strength_model=0.7, strength_clip=1.0,
                 model=["4", 0], clip=["4", 1])
    g["41"] = _n("LoraLoader", lora_name="styles/watercolor_v1.safetensors", strength_model=0.5, strength_clip=0.6,
                 model=["40", 0], clip=["40", 1])
    g["42"] = _n("LoraLoaderModelOnly", lora_name="film_grain_v2.safetensors", strength_model=0.3, model=["41", 0])
    g["3"]["inputs"]["model"] = ["42", 0]
    g["6"]["inputs"]["clip"] = ["41", 1]
    g["7"]["inputs"]["clip"] = ["41", 1]
    return g


def graph_wan_video():
    """Wan 2.1 image-to-video: CLIPLoader, WanImageToVideo (positive/negative/latent), ModelSamplingSD3, KSampler."""
    return {
        "37": _n("UNETLoader", unet_name="wan2.1_i2v_480p_14B_fp16.safetensors", weight_dtype="default"),
        "38": _n("CLIPLoader", clip_name="umt5_xxl_fp8_e4m3fn_scaled.safetensors", type="wan", device="default"),
        "39": _n("VAELoader", vae_name="wan_2.1_vae.safetensors"),
        "6": _n("CLIPTextEncode", text="a fennec fox running through a meadow", clip=["38", 0]),
        "7": _n("CLIPTextEncode", text="static, blurry", clip=["38", 0]),
        "52": _n("LoadImage", image="fox.png"),
        "50": _n("WanImageToVideo", width=832, height=480, length=33, batch_size=1, positive=["6", 0],
                 negative=["7", 0], vae=["39", 0], start_image=["52", 0]),
        "54": _n("ModelSamplingSD3", shift=8.0, model=["37", 0]),
        "3": _n("KSampler", seed=2024, steps=20, cfg=6.0, sampler_name="uni_pc", scheduler="simple", denoise=1.0,
                model=["54", 0], positive=["50", 0], negative=["50", 1], latent_image=["50", 2]),
        "8": _n("VAEDecode", samples=["3", 0], vae=["39", 0]),
        "28": _n("SaveAnimatedWEBP", filename_prefix="ComfyUI", fps=16, lossless=False, quality=90,
                 method="default", images=["8", 0]),
    }


def graph_flux_cfg_guider():
    """Flux-style CFGGuider with a negative and a real CFG, plus CLIPTextEncodeFlux guidance."""
    return {
        "1": _n("UNETLoader", unet_name="flux1-dev.safetensors", weight_dtype="default"),
        "2": _n("DualCLIPLoader", clip_name1="t5xxl.safetensors", clip_name2="clip_l.safetensors", type="flux"),
        "3": _n("CLIPTextEncodeFlux", clip_l="a bowl of ramen", t5xxl="a bowl of ramen, studio photograph",
                guidance=4.0, clip=["2", 0]),
        "4": _n("CLIPTextEncode", text="cartoon", clip=["2", 0]),
        "5": _n("CFGGuider", cfg=2.5, model=["1", 0], positive=["3", 0], negative=["4", 0]),
        "6": _n("RandomNoise", noise_seed=77),
        "7": _n("KSamplerSelect", sampler_name="dpmpp_2m"),
        "8": _n("BasicScheduler", scheduler="beta", steps=24, denoise=1.0, model=["1", 0]),
        "9": _n("EmptySD3LatentImage", width=896, height=1152, batch_size=1),
        "10": _n("SamplerCustomAdvanced", noise=["6", 0], guider=["5", 0], sampler=["7", 0], sigmas=["8", 0],
                 latent_image=["9", 0]),
        "11": _n("VAEDecode", samples=["10", 0], vae=["12", 0]),
        "12": _n("VAELoader", vae_name="ae.safetensors"),
        "13": _n("SaveImage", filename_prefix="Flux", images=["11", 0]),
    }
