"""GPU readings for the System Monitor: one backend per vendor, detected once at start.

Order of preference: NVML (``nvidia-ml-py``, no subprocess), then ``nvidia-smi`` (one CSV query
per sample), AMD through the ``amdsmi`` library, Linux sysfs or ``rocm-smi``, and Apple's
``ioreg`` (no root needed). Every backend returns the same reading dict (``gpu_reading``);
what a backend cannot know is ``None``.

Parsing lives in pure functions fed with text or a folder (``parse_nvidia_smi_csv``,
``read_sysfs_card``, ``parse_rocm_smi_json``, ``parse_ioreg_accelerators``), so tests replay
recorded output without the hardware. Library backends take the library module as an
argument, which is where tests put a stand-in when there is no GPU.
"""
from __future__ import annotations

import abc
import asyncio
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

log = logging.getLogger("holaf.monitor")

RunBlocking = Callable[..., Awaitable[Any]]
MIB = 1024 * 1024
SUBPROCESS_TIMEOUT_S = 3.0

READING_KEYS = (
    "index", "name", "vendor", "backend", "util", "vram_used", "vram_total", "vram_percent",
    "temp_c", "power_w", "power_limit_w", "clock_graphics_mhz", "clock_mem_mhz", "process_vram",
)


def gpu_reading(**values: Any) -> dict:
    """One GPU's values with every key present; ``vram_percent`` derived when both sizes are known."""
    unknown = set(values) - set(READING_KEYS) - {"unified_memory", "stale"}
    if unknown:
        raise TypeError(f"unknown GPU reading keys: {sorted(unknown)}")
    out = {key: values.get(key) for key in READING_KEYS}
    out.update({k: v for k, v in values.items() if k not in out})
    used, total = out["vram_used"], out["vram_total"]
    if out["vram_percent"] is None and used is not None and total:
        out["vram_percent"] = round(100.0 * used / total, 1)
    return out


def _number(text: Any) -> float | None:
    """A float from tool output, or None for the many ways tools say "not available"."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    match = re.search(r"-?\d+(?:\.\d+)?", str(text).strip())
    if not match or str(text).strip().startswith("["):  # "[N/A]", "[Not Supported]"
        return None
    return float(match.group())


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _read_int(path: Path) -> int | None:
    text = _read_text(path)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- backends
class GpuBackend(abc.ABC):
    """Base: ``read()`` returns one reading per GPU; ``close()`` releases the library."""

    name = "none"
    vendor = "unknown"

    def __init__(self, run_blocking: RunBlocking) -> None:
        self.run_blocking = run_blocking

    def describe(self) -> list[dict]:
        """Static facts sent with the history (names, indexes)."""
        return []

    @abc.abstractmethod
    async def read(self) -> list[dict]:
        """One reading per GPU (each backend knows how)."""

    async def close(self) -> None:
        return None


# ---- NVML ------------------------------------------------------------------
def pid_namespace_is_nested(status_text: str | None) -> bool:
    """True inside a container with its own PID namespace (``NSpid:`` lists more than one id).

    GPU drivers report host PIDs, so our own PID cannot be found in their process lists there.
    """
    for line in (status_text or "").splitlines():
        if line.startswith("NSpid:"):
            return len(line.split()[1:]) > 1
    return False


class NvmlBackend(GpuBackend):
    """NVIDIA through NVML. ``nvml`` is the ``pynvml`` module (tests pass a stand-in)."""

    name = "nvml"
    vendor = "nvidia"

    def __init__(self, run_blocking: RunBlocking, nvml: Any, pid: int, *, pid_visible: bool | None = None) -> None:
        super().__init__(run_blocking)
        self.nvml = nvml
        self.pid = pid
        self.handles: list[Any] = []
        self.names: list[str] = []
        self._process_fn = None
        if pid_visible is None:
            pid_visible = not pid_namespace_is_nested(_read_text(Path("/proc/self/status")))
        self.pid_visible = pid_visible

    @classmethod
    def open_sync(cls, run_blocking: RunBlocking, nvml: Any = None, pid: int | None = None, *,
                  pid_visible: bool | None = None) -> "NvmlBackend":
        """Initialise NVML and list the devices; raises when NVML is unusable."""
        if nvml is None:
            import pynvml as nvml  # nvidia-ml-py
        nvml.nvmlInit()
        backend = cls(run_blocking, nvml, os.getpid() if pid is None else pid, pid_visible=pid_visible)
        try:
            for index in range(nvml.nvmlDeviceGetCount()):
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                name = nvml.nvmlDeviceGetName(handle)
                backend.handles.append(handle)
                backend.names.append(name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name))
        except Exception:
            backend.close_sync()
            raise
        return backend

    def describe(self) -> list[dict]:
        return [{"index": i, "name": n, "vendor": self.vendor, "backend": self.name} for i, n in enumerate(self.names)]

    def _try(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except self.nvml.NVMLError:
            return None

    def _own_process_vram(self, handle: Any) -> int | None:
        if not self.pid_visible:
            return None
        nvml = self.nvml
        getters = [getattr(nvml, "nvmlDeviceGetComputeRunningProcesses", None)]
        getters.append(getattr(nvml, "nvmlDeviceGetComputeRunningProcesses_v2", None))
        for getter in ([self._process_fn] if self._process_fn else getters):
            if getter is None:
                continue
            try:
                processes = getter(handle)
            except nvml.NVMLError:
                continue  # e.g. an older driver without the _v3 entry point: try the next one
            self._process_fn = getter
            used = [p.usedGpuMemory for p in processes if p.pid == self.pid and p.usedGpuMemory is not None]
            return int(sum(used)) if used else 0
        return None

    def read_sync(self) -> list[dict]:
        nvml = self.nvml
        out = []
        for index, handle in enumerate(self.handles):
            util = self._try(lambda: nvml.nvmlDeviceGetUtilizationRates(handle))
            memory = self._try(lambda: nvml.nvmlDeviceGetMemoryInfo(handle))
            temp = self._try(lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
            power = self._try(lambda: nvml.nvmlDeviceGetPowerUsage(handle))  # mW
            limit = self._try(lambda: nvml.nvmlDeviceGetEnforcedPowerLimit(handle))  # mW
            clock_gr = self._try(lambda: nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_GRAPHICS))
            clock_mem = self._try(lambda: nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_MEM))
            out.append(gpu_reading(
                index=index, name=self.names[index], vendor=self.vendor, backend=self.name,
                util=float(util.gpu) if util is not None else None,
                vram_used=int(memory.used) if memory is not None else None,
                vram_total=int(memory.total) if memory is not None else None,
                temp_c=float(temp) if temp is not None else None,
                power_w=_round(power / 1000.0) if power is not None else None,
                power_limit_w=_round(limit / 1000.0) if limit is not None else None,
                clock_graphics_mhz=clock_gr, clock_mem_mhz=clock_mem,
                process_vram=self._own_process_vram(handle),
            ))
        return out

    async def read(self) -> list[dict]:
        return await self.run_blocking(self.read_sync)

    def close_sync(self) -> None:
        try:
            self.nvml.nvmlShutdown()
        except Exception:
            pass

    async def close(self) -> None:
        await self.run_blocking(self.close_sync)


# ---- nvidia-smi ------------------------------------------------------------
#: One query per sample. ``name`` is last so a comma in a product name cannot shift the columns.
NVIDIA_SMI_FIELDS = (
    "index", "utilization.gpu", "memory.used", "memory.total", "temperature.gpu",
    "power.draw", "power.limit", "clocks.gr", "clocks.mem", "name",
)


def nvidia_smi_command(executable: str) -> list[str]:
    return [executable, f"--query-gpu={','.join(NVIDIA_SMI_FIELDS)}", "--format=csv,noheader,nounits"]


def parse_nvidia_smi_csv(text: str) -> list[dict]:
    """Rows of ``nvidia-smi --query-gpu=<NVIDIA_SMI_FIELDS> --format=csv,noheader,nounits``."""
    out = []
    fixed = len(NVIDIA_SMI_FIELDS) - 1
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",", fixed)]
        if len(parts) < len(NVIDIA_SMI_FIELDS):
            raise ValueError(f"unexpected nvidia-smi line: {line!r}")
        values = dict(zip(NVIDIA_SMI_FIELDS[:fixed], parts[:fixed]))
        name = parts[fixed]
        used, total = _number(values["memory.used"]), _number(values["memory.total"])
        index = _number(values["index"])
        out.append(gpu_reading(
            index=int(index) if index is not None else len(out), name=name or "NVIDIA GPU", vendor="nvidia",
            backend="nvidia-smi", util=_number(values["utilization.gpu"]),
            vram_used=int(used * MIB) if used is not None else None,
            vram_total=int(total * MIB) if total is not None else None,
            temp_c=_number(values["temperature.gpu"]), power_w=_round(_number(values["power.draw"])),
            power_limit_w=_round(_number(values["power.limit"])),
            clock_graphics_mhz=_number(values["clocks.gr"]), clock_mem_mhz=_number(values["clocks.mem"]),
        ))
    return out


async def run_tool(command: list[str], timeout: float = SUBPROCESS_TIMEOUT_S) -> str:
    """Run a reporting tool as an asyncio subprocess (never blocking the loop); stdout as text."""
    # A windowless ComfyUI (pythonw, the desktop app) would flash a console per call without this flag.
    extra = {"creationflags": subprocess.CREATE_NO_WINDOW} if os.name == "nt" else {}
    proc = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, **extra,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise TimeoutError(f"{Path(command[0]).name} did not answer within {timeout:g} s") from None
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()
        raise
    if proc.returncode != 0:
        detail = stderr.decode("utf-8", "replace").strip() or stdout.decode("utf-8", "replace").strip()
        raise RuntimeError(f"{Path(command[0]).name} exited with {proc.returncode}: {detail[:200]}")
    return stdout.decode("utf-8", "replace")


def find_nvidia_smi(which: Callable[[str], str | None] = shutil.which) -> str | None:
    found = which("nvidia-smi")
    if found or os.name != "nt":
        return found
    for base in (os.environ.get("ProgramFiles", r"C:\Program Files"), os.environ.get("SystemRoot", r"C:\Windows")):
        for candidate in (Path(base) / "NVIDIA Corporation" / "NVSMI" / "nvidia-smi.exe", Path(base) / "System32" / "nvidia-smi.exe"):
            if candidate.is_file():
                return str(candidate)
    return None


class NvidiaSmiBackend(GpuBackend):
    """NVIDIA without NVML bindings: one ``nvidia-smi`` CSV query per sample (per-process VRAM unknown)."""

    name = "nvidia-smi"
    vendor = "nvidia"

    def __init__(self, run_blocking: RunBlocking, executable: str, first: list[dict]) -> None:
        super().__init__(run_blocking)
        self.command = nvidia_smi_command(executable)
        self.names = [g["name"] for g in first]

    def describe(self) -> list[dict]:
        return [{"index": i, "name": n, "vendor": self.vendor, "backend": self.name} for i, n in enumerate(self.names)]

    async def read(self) -> list[dict]:
        return parse_nvidia_smi_csv(await run_tool(self.command))


# ---- AMD: amdsmi library -----------------------------------------------------
def _amd_value(value: Any) -> float | None:
    """amdsmi reports unsupported fields as "N/A" or an all-ones integer."""
    if value is None or isinstance(value, str) or isinstance(value, bool):
        return None
    if value in (0xFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        return None
    return float(value)


class AmdSmiBackend(GpuBackend):
    """AMD through the ``amdsmi`` Python library (ROCm 6+). Units per the AMD SMI reference:
    activity %, VRAM MB, power W, power cap µW, temperature °C, clocks MHz, process VRAM bytes."""

    name = "amdsmi"
    vendor = "amd"

    def __init__(self, run_blocking: RunBlocking, amdsmi: Any, pid: int) -> None:
        super().__init__(run_blocking)
        self.lib = amdsmi
        self.pid = pid
        self.handles: list[Any] = []
        self.names: list[str] = []

    @classmethod
    def open_sync(cls, run_blocking: RunBlocking, amdsmi: Any = None, pid: int | None = None) -> "AmdSmiBackend":
        if amdsmi is None:
            import amdsmi  # type: ignore[import-not-found]
        init_flags = getattr(getattr(amdsmi, "AmdSmiInitFlags", None), "INIT_AMD_GPUS", None)
        amdsmi.amdsmi_init(init_flags) if init_flags is not None else amdsmi.amdsmi_init()
        backend = cls(run_blocking, amdsmi, os.getpid() if pid is None else pid)
        try:
            backend.handles = list(amdsmi.amdsmi_get_processor_handles())
            for index, handle in enumerate(backend.handles):
                name = backend._try(lambda: amdsmi.amdsmi_get_gpu_asic_info(handle).get("market_name"))
                backend.names.append(name if isinstance(name, str) and name != "N/A" else f"AMD GPU {index}")
        except Exception:
            backend.close_sync()
            raise
        return backend

    def describe(self) -> list[dict]:
        return [{"index": i, "name": n, "vendor": self.vendor, "backend": self.name} for i, n in enumerate(self.names)]

    def _try(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception:  # AmdSmiLibraryException / AmdSmiParameterException: field not supported
            return None

    def read_sync(self) -> list[dict]:
        lib = self.lib
        out = []
        for index, handle in enumerate(self.handles):
            activity = self._try(lambda: lib.amdsmi_get_gpu_activity(handle)) or {}
            vram = self._try(lambda: lib.amdsmi_get_gpu_vram_usage(handle)) or {}
            power = self._try(lambda: lib.amdsmi_get_power_info(handle)) or {}
            cap = self._try(lambda: lib.amdsmi_get_power_cap_info(handle)) or {}
            temp = None
            for sensor in ("EDGE", "HOTSPOT"):
                temp = _amd_value(self._try(lambda: lib.amdsmi_get_temp_metric(
                    handle, getattr(lib.AmdSmiTemperatureType, sensor), lib.AmdSmiTemperatureMetric.CURRENT)))
                if temp is not None:
                    break
            clocks = {}
            for kind in ("GFX", "MEM"):
                info = self._try(lambda: lib.amdsmi_get_clock_info(handle, getattr(lib.AmdSmiClkType, kind))) or {}
                clocks[kind] = _amd_value(info.get("clk"))
            power_w = next((v for v in (_amd_value(power.get(k)) for k in ("socket_power", "current_socket_power", "average_socket_power")) if v is not None), None)
            cap_uw = _amd_value(cap.get("power_cap"))
            limit_w = cap_uw / 1e6 if cap_uw else _amd_value(power.get("power_limit"))
            used_mb, total_mb = _amd_value(vram.get("vram_used")), _amd_value(vram.get("vram_total"))
            processes = self._try(lambda: lib.amdsmi_get_gpu_process_list(handle))
            own = None
            if isinstance(processes, list):
                own = sum(int((p.get("memory_usage") or {}).get("vram_mem") or 0) for p in processes if p.get("pid") == self.pid)
            out.append(gpu_reading(
                index=index, name=self.names[index], vendor=self.vendor, backend=self.name,
                util=_amd_value(activity.get("gfx_activity")),
                vram_used=int(used_mb * MIB) if used_mb is not None else None,
                vram_total=int(total_mb * MIB) if total_mb is not None else None,
                temp_c=temp, power_w=_round(power_w), power_limit_w=_round(limit_w),
                clock_graphics_mhz=clocks["GFX"], clock_mem_mhz=clocks["MEM"], process_vram=own,
            ))
        return out

    async def read(self) -> list[dict]:
        return await self.run_blocking(self.read_sync)

    def close_sync(self) -> None:
        try:
            self.lib.amdsmi_shut_down()
        except Exception:
            pass

    async def close(self) -> None:
        await self.run_blocking(self.close_sync)


# ---- AMD: Linux sysfs ---------------------------------------------------------
AMD_PCI_VENDOR = "0x1002"


def find_amd_sysfs_cards(drm_root: Path) -> list[Path]:
    """``card<N>`` folders (not connectors such as ``card0-DP-1``) of AMD GPUs that report load."""
    cards = []
    try:
        entries = sorted(drm_root.iterdir(), key=lambda p: int(p.name[4:]) if p.name[4:].isdigit() else 1 << 30)
    except OSError:
        return []
    for entry in entries:
        if not re.fullmatch(r"card\d+", entry.name):
            continue
        device = entry / "device"
        if (_read_text(device / "vendor") or "").lower() != AMD_PCI_VENDOR:
            continue
        if (device / "gpu_busy_percent").exists() or (device / "mem_info_vram_total").exists():
            cards.append(entry)
    return cards


def _hwmon_dir(device: Path) -> Path | None:
    try:
        found = sorted((device / "hwmon").glob("hwmon*"))
    except OSError:
        return None
    return found[0] if found else None


def read_sysfs_card(card: Path, index: int = 0) -> dict:
    """One AMD GPU from ``/sys/class/drm/cardN``: load, VRAM, and hwmon temperature/power/clocks."""
    device = card / "device"
    hwmon = _hwmon_dir(device)

    def hw(name: str) -> int | None:
        return _read_int(hwmon / name) if hwmon is not None else None

    temp = hw("temp1_input")  # millidegrees C (edge)
    power = hw("power1_average")  # microwatts; newer kernels have power1_input instead
    if power is None:
        power = hw("power1_input")
    cap = hw("power1_cap")
    sclk, mclk = hw("freq1_input"), hw("freq2_input")  # Hz
    name = _read_text(device / "product_name") or f"AMD GPU ({card.name})"
    return gpu_reading(
        index=index, name=name, vendor="amd", backend="sysfs",
        util=_number(_read_text(device / "gpu_busy_percent")),
        vram_used=_read_int(device / "mem_info_vram_used"), vram_total=_read_int(device / "mem_info_vram_total"),
        temp_c=_round(temp / 1000.0) if temp is not None else None,
        power_w=_round(power / 1e6) if power is not None else None,
        power_limit_w=_round(cap / 1e6) if cap else None,
        clock_graphics_mhz=round(sclk / 1e6) if sclk is not None else None,
        clock_mem_mhz=round(mclk / 1e6) if mclk is not None else None,
    )


def parse_drm_fdinfo(text: str) -> dict:
    """The DRM usage block the kernel writes in ``/proc/<pid>/fdinfo/<fd>`` (amdgpu, i915, …)."""
    out: dict[str, Any] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key in ("drm-driver", "drm-pdev", "drm-client-id"):
            out[key] = value
        elif key == "drm-memory-vram":
            number, _, unit = value.partition(" ")
            scale = {"": 1, "B": 1, "KiB": 1024, "MiB": MIB, "GiB": 1024 * MIB}.get(unit.strip(), 1)
            try:
                out["vram"] = int(number) * scale
            except ValueError:
                pass
    return out


def own_drm_vram_by_pdev(proc_self: Path = Path("/proc/self")) -> dict[str, int]:
    """VRAM this process holds per PCI device, from the fdinfo of its open ``/dev/dri`` files."""
    totals: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    try:
        fds = list((proc_self / "fd").iterdir())
    except OSError:
        return totals
    for fd in fds:
        try:
            if not os.readlink(fd).startswith("/dev/dri/"):
                continue
        except OSError:
            continue
        info = parse_drm_fdinfo(_read_text(proc_self / "fdinfo" / fd.name) or "")
        pdev, client = info.get("drm-pdev"), info.get("drm-client-id", fd.name)
        if pdev is None or "vram" not in info or (pdev, client) in seen:
            continue  # one client may hold several fds: count it once
        seen.add((pdev, client))
        totals[pdev] = totals.get(pdev, 0) + info["vram"]
    return totals


class SysfsAmdBackend(GpuBackend):
    """AMD on Linux with no ROCm at all: plain files under ``/sys/class/drm`` (cheap, no root)."""

    name = "sysfs"
    vendor = "amd"

    def __init__(self, run_blocking: RunBlocking, cards: list[Path], proc_self: Path = Path("/proc/self")) -> None:
        super().__init__(run_blocking)
        self.cards = cards
        self.proc_self = proc_self
        self.pdevs = []
        for card in cards:
            try:
                self.pdevs.append(Path(os.path.realpath(card / "device")).name)
            except OSError:
                self.pdevs.append(None)
        self.names = [read_sysfs_card(c, i)["name"] for i, c in enumerate(cards)]

    def describe(self) -> list[dict]:
        return [{"index": i, "name": n, "vendor": self.vendor, "backend": self.name} for i, n in enumerate(self.names)]

    def read_sync(self) -> list[dict]:
        own = own_drm_vram_by_pdev(self.proc_self) if sys.platform.startswith("linux") else None
        out = []
        for index, card in enumerate(self.cards):
            reading = read_sysfs_card(card, index)
            reading["process_vram"] = own.get(self.pdevs[index], 0) if own is not None else None
            out.append(reading)
        return out

    async def read(self) -> list[dict]:
        return await self.run_blocking(self.read_sync)


# ---- AMD: rocm-smi ------------------------------------------------------------
ROCM_SMI_ARGS = ("--showuse", "--showmeminfo", "vram", "--showtemp", "--showpower", "--showmaxpower", "--showclocks", "--json")


def _first_match(values: dict, *patterns: str) -> Any:
    for pattern in patterns:
        regex = re.compile(pattern, re.I)
        for key, value in values.items():
            if regex.search(key):
                return value
    return None


def parse_rocm_smi_json(text: str) -> list[dict]:
    """``rocm-smi <ROCM_SMI_ARGS>`` output: ``{"card0": {"GPU use (%)": "12", …}, "system": {…}}``."""
    data = json.loads(text)
    cards = sorted((k for k in data if re.fullmatch(r"card\d+", k)), key=lambda k: int(k[4:]))
    out = []
    for index, key in enumerate(cards):
        values = data[key]
        used = _number(_first_match(values, r"^VRAM Total Used Memory \(B\)"))
        total = _number(_first_match(values, r"^VRAM Total Memory \(B\)"))
        sclk = _first_match(values, r"^sclk clock speed")
        mclk = _first_match(values, r"^mclk clock speed")
        name = _first_match(values, r"^Card (series|model)$", r"^Device Name$")
        out.append(gpu_reading(
            index=index, name=name if isinstance(name, str) and name else f"AMD GPU ({key})", vendor="amd",
            backend="rocm-smi", util=_number(_first_match(values, r"^GPU use \(%\)")),
            vram_used=int(used) if used is not None else None, vram_total=int(total) if total is not None else None,
            temp_c=_number(_first_match(values, r"^Temperature \(Sensor edge\)", r"^Temperature \(Sensor junction\)", r"^Temperature")),
            power_w=_round(_number(_first_match(values, r"(Average|Current Socket) Graphics Package Power \(W\)", r"Power \(W\)$"))),
            power_limit_w=_round(_number(_first_match(values, r"^Max Graphics Package Power \(W\)"))),
            clock_graphics_mhz=_number(sclk), clock_mem_mhz=_number(mclk),
        ))
    return out


class RocmSmiBackend(GpuBackend):
    """AMD through the ``rocm-smi`` command (last resort: a Python script per sample is not cheap)."""

    name = "rocm-smi"
    vendor = "amd"

    def __init__(self, run_blocking: RunBlocking, executable: str, first: list[dict]) -> None:
        super().__init__(run_blocking)
        self.command = [executable, *ROCM_SMI_ARGS]
        self.names = [g["name"] for g in first]

    def describe(self) -> list[dict]:
        return [{"index": i, "name": n, "vendor": self.vendor, "backend": self.name} for i, n in enumerate(self.names)]

    async def read(self) -> list[dict]:
        return parse_rocm_smi_json(await run_tool(self.command))


# ---- Apple (macOS) --------------------------------------------------------------
IOREG_COMMAND = ("ioreg", "-r", "-d", "1", "-w", "0", "-c", "IOAccelerator")


def parse_ioreg_accelerators(text: str, ram_total: int | None = None) -> list[dict]:
    """GPUs from ``ioreg -r -d 1 -w 0 -c IOAccelerator`` (no root needed).

    Apple Silicon shares system memory: "In use system memory" is what the GPU holds, against the
    machine's RAM (``ram_total``). Temperature and power need root (``powermetrics``): unknown.
    """
    out = []
    blocks = re.split(r"^\+-o ", text, flags=re.M)
    for block in blocks[1:]:
        stats_match = re.search(r'"PerformanceStatistics"\s*=\s*\{(.*?)\}', block, re.S)
        if not stats_match:
            continue
        stats = dict(re.findall(r'"([^"]+)"\s*=\s*(-?\d+)', stats_match.group(1)))
        util = stats.get("Device Utilization %")
        if util is None:
            continue
        model = re.search(r'"model"\s*=\s*"([^"]*)"', block)
        in_use = stats.get("In use system memory")
        vram_used = stats.get("vramUsedBytes")  # Intel Macs with a discrete GPU
        vram_free = stats.get("vramFreeBytes")
        apple_silicon = in_use is not None and vram_used is None
        used = int(in_use) if apple_silicon else (int(vram_used) if vram_used is not None else None)
        total = ram_total if apple_silicon else (used + int(vram_free) if used is not None and vram_free is not None else None)
        cls_name = block.split(None, 1)[0] if block.strip() else "GPU"
        out.append(gpu_reading(
            index=len(out), name=model.group(1) if model else cls_name, vendor="apple", backend="ioreg",
            util=float(util), vram_used=used, vram_total=total, unified_memory=apple_silicon,
        ))
    return out


class IoregBackend(GpuBackend):
    """macOS GPUs (Apple Silicon and Intel Macs) through ``ioreg``: load and GPU memory only."""

    name = "ioreg"
    vendor = "apple"

    def __init__(self, run_blocking: RunBlocking, first: list[dict], ram_total: int | None) -> None:
        super().__init__(run_blocking)
        self.names = [g["name"] for g in first]
        self.ram_total = ram_total

    def describe(self) -> list[dict]:
        return [{"index": i, "name": n, "vendor": self.vendor, "backend": self.name,
                 "note": "temperature and power need root (powermetrics)"} for i, n in enumerate(self.names)]

    async def read(self) -> list[dict]:
        return parse_ioreg_accelerators(await run_tool(list(IOREG_COMMAND)), self.ram_total)


# --------------------------------------------------------------------------- detection
@dataclass
class Probe:
    """Outcome of trying one backend: the backend, or why it is not used."""

    name: str
    vendor: str
    backend: GpuBackend | None = None
    reason: str = ""


@dataclass
class ProbeEnvironment:
    """Where detection looks. Tests point it at recorded trees and stand-in libraries."""

    platform: str = sys.platform
    drm_root: Path = Path("/sys/class/drm")
    which: Callable[[str], str | None] = shutil.which
    nvml: Any = None  # None: import pynvml
    amdsmi: Any = None  # None: import amdsmi if present
    ram_total: int | None = None
    pid: int | None = None
    skip: set[str] = field(default_factory=set)


async def probe_all(run_blocking: RunBlocking, env: ProbeEnvironment | None = None, *, stop_at_first_per_vendor: bool = True) -> list[Probe]:
    """Try every backend in order of preference; with ``stop_at_first_per_vendor`` a vendor that
    already has a working backend is not probed again (``bench/check_gpu.py`` probes them all)."""
    env = env or ProbeEnvironment()
    probes: list[Probe] = []
    have: set[str] = set()

    def wanted(name: str, vendor: str) -> bool:
        if name in env.skip:
            probes.append(Probe(name, vendor, reason="turned off"))
            return False
        return not (stop_at_first_per_vendor and vendor in have)

    def found(probe: Probe) -> None:
        probes.append(probe)
        if probe.backend is not None:
            have.add(probe.vendor)

    async def library_probe(name: str, vendor: str, backend_class, library, none_found: str, missing: str,
                            label: str) -> Probe:
        """Open a vendor library's backend; say why not when it cannot be used."""
        try:
            backend = await run_blocking(backend_class.open_sync, run_blocking, library, env.pid)
        except ImportError:
            return Probe(name, vendor, reason=missing)
        except Exception as exc:
            return Probe(name, vendor, reason=f"{label} unavailable: {exc}")
        if backend.handles:
            return Probe(name, vendor, backend)
        await backend.close()
        return Probe(name, vendor, reason=none_found)

    if wanted("nvml", "nvidia"):
        found(await library_probe("nvml", "nvidia", NvmlBackend, env.nvml, "NVML reports no NVIDIA GPU",
                                  "nvidia-ml-py is not installed", "NVML"))

    if wanted("nvidia-smi", "nvidia"):
        executable = find_nvidia_smi(env.which)
        if executable is None:
            found(Probe("nvidia-smi", "nvidia", reason="nvidia-smi not found"))
        else:
            try:
                first = parse_nvidia_smi_csv(await run_tool(nvidia_smi_command(executable)))
                if first:
                    found(Probe("nvidia-smi", "nvidia", NvidiaSmiBackend(run_blocking, executable, first)))
                else:
                    found(Probe("nvidia-smi", "nvidia", reason="nvidia-smi lists no GPU"))
            except Exception as exc:
                found(Probe("nvidia-smi", "nvidia", reason=f"nvidia-smi failed: {exc}"))

    if wanted("amdsmi", "amd"):
        found(await library_probe("amdsmi", "amd", AmdSmiBackend, env.amdsmi, "amdsmi reports no AMD GPU",
                                  "the amdsmi library is not installed", "amdsmi"))

    if wanted("sysfs", "amd"):
        if not env.platform.startswith("linux"):
            found(Probe("sysfs", "amd", reason="Linux only"))
        else:
            cards = await run_blocking(find_amd_sysfs_cards, env.drm_root)
            if cards:
                found(Probe("sysfs", "amd", await run_blocking(SysfsAmdBackend, run_blocking, cards)))
            else:
                found(Probe("sysfs", "amd", reason=f"no AMD GPU under {env.drm_root}"))

    if wanted("rocm-smi", "amd"):
        executable = env.which("rocm-smi")
        if executable is None:
            found(Probe("rocm-smi", "amd", reason="rocm-smi not found"))
        else:
            try:
                first = parse_rocm_smi_json(await run_tool([executable, *ROCM_SMI_ARGS]))
                if first:
                    found(Probe("rocm-smi", "amd", RocmSmiBackend(run_blocking, executable, first)))
                else:
                    found(Probe("rocm-smi", "amd", reason="rocm-smi lists no GPU"))
            except Exception as exc:
                found(Probe("rocm-smi", "amd", reason=f"rocm-smi failed: {exc}"))

    if wanted("ioreg", "apple"):
        if env.platform != "darwin":
            found(Probe("ioreg", "apple", reason="macOS only"))
        elif env.which("ioreg") is None:
            found(Probe("ioreg", "apple", reason="ioreg not found"))
        else:
            try:
                first = parse_ioreg_accelerators(await run_tool(list(IOREG_COMMAND)), env.ram_total)
                if first:
                    found(Probe("ioreg", "apple", IoregBackend(run_blocking, first, env.ram_total)))
                else:
                    found(Probe("ioreg", "apple", reason="ioreg shows no GPU statistics"))
            except Exception as exc:
                found(Probe("ioreg", "apple", reason=f"ioreg failed: {exc}"))
    return probes


class GpuSet:
    """The backends in use, read together. A backend whose previous read is still running (a hung
    driver call, a slow tool) is not asked again: its last values are returned marked ``stale``."""

    def __init__(self, backends: list[GpuBackend], probes: list[Probe] | None = None, *, timeout: float = SUBPROCESS_TIMEOUT_S) -> None:
        self.backends = backends
        self.probes = probes or []
        self.timeout = timeout
        self._inflight: dict[int, asyncio.Task] = {}
        self._last: dict[int, list[dict]] = {}
        self.errors: dict[str, str] = {}

    def status(self) -> dict:
        """What the UI shows about GPUs: which backends, what each GPU is, or why there is none."""
        devices = []
        for backend in self.backends:
            devices.extend(backend.describe())
        for global_index, device in enumerate(devices):
            device["id"] = global_index
        return {
            "backends": [b.name for b in self.backends],
            "devices": devices,
            "message": None if self.backends else "No GPU found",
            "tried": [{"backend": p.name, "reason": p.reason} for p in self.probes if p.backend is None],
        }

    async def _read_one(self, key: int, backend: GpuBackend) -> list[dict]:
        task = self._inflight.get(key)
        if task is None or task.done():
            task = asyncio.ensure_future(backend.read())
            self._inflight[key] = task
        done, _ = await asyncio.wait({task}, timeout=self.timeout)
        if not done:
            self.errors[backend.name] = f"{backend.name} is not answering"
            return [dict(g, stale=True) for g in self._last.get(key, [])]
        self._inflight.pop(key, None)
        try:
            readings = task.result()
        except Exception as exc:
            if self.errors.get(backend.name) != str(exc):
                log.warning("GPU backend %s failed: %s", backend.name, exc)
            self.errors[backend.name] = str(exc)
            return [dict(g, stale=True) for g in self._last.get(key, [])]
        self.errors.pop(backend.name, None)
        self._last[key] = readings
        return readings

    async def read(self) -> list[dict]:
        if not self.backends:
            return []
        results = await asyncio.gather(*(self._read_one(i, b) for i, b in enumerate(self.backends)))
        out = []
        for readings in results:
            for reading in readings:
                out.append(dict(reading, id=len(out)))
        return out

    async def close(self) -> None:
        for task in self._inflight.values():
            task.cancel()
        for backend in self.backends:
            try:
                await backend.close()
            except Exception:
                log.debug("closing %s failed", backend.name, exc_info=True)


async def detect_gpus(run_blocking: RunBlocking, env: ProbeEnvironment | None = None) -> GpuSet:
    probes = await probe_all(run_blocking, env)
    backends = [p.backend for p in probes if p.backend is not None]
    for probe in probes:
        if probe.backend is not None:
            log.info("System Monitor: GPUs through %s (%s)", probe.name, ", ".join(probe.backend.names))
        else:
            log.debug("System Monitor: %s not used: %s", probe.name, probe.reason)
    if not backends:
        log.info("System Monitor: no GPU found; CPU, memory and disks only")
    return GpuSet(backends, probes)
