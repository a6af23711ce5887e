"""System Monitor GPU backends without a GPU: recorded tool output, fake sysfs trees, and
NVML/amdsmi replaced only at the library boundary (a stand-in module with the same calls).

Subprocess backends run for real: a small script named ``nvidia-smi`` prints a recorded CSV,
so the asyncio subprocess path, the timeout and the detection order are all exercised.
"""
from __future__ import annotations

import asyncio
import os
import stat
import sys
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pynvml
import pytest

from holaf_utilities.holaf_system_monitor_backend.gpu import (
    AmdSmiBackend,
    GpuSet,
    NvidiaSmiBackend,
    NvmlBackend,
    ProbeEnvironment,
    SysfsAmdBackend,
    find_amd_sysfs_cards,
    gpu_reading,
    own_drm_vram_by_pdev,
    parse_drm_fdinfo,
    parse_ioreg_accelerators,
    parse_nvidia_smi_csv,
    parse_rocm_smi_json,
    pid_namespace_is_nested,
    probe_all,
    read_sysfs_card,
    run_tool,
)

MIB = 1024 * 1024

# nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,
#            power.limit,clocks.gr,clocks.mem,name --format=csv,noheader,nounits
NVIDIA_SMI_CSV = textwrap.dedent("""\
    0, 97, 18342, 24564, 71, 412.35, 450.00, 2610, 10501, NVIDIA GeForce RTX 4090
    1, 0, 5, 6144, 46, [N/A], [N/A], 210, 405, NVIDIA GeForce GTX 1660 Ti with Max-Q Design, Laptop
    2, [Not Supported], 0, 15360, [Not Supported], 24.89, 70.00, 585, 5000, Tesla T4
""")


async def inline(fn, *args):
    """``run_blocking`` for tests that call library backends directly (no event loop at stake)."""
    return fn(*args)


# -- nvidia-smi ----------------------------------------------------------------
def test_nvidia_smi_csv_rows_become_readings_in_bytes_watts_and_megahertz():
    gpus = parse_nvidia_smi_csv(NVIDIA_SMI_CSV)
    assert [g["index"] for g in gpus] == [0, 1, 2]
    first = gpus[0]
    assert first["name"] == "NVIDIA GeForce RTX 4090" and first["vendor"] == "nvidia" and first["backend"] == "nvidia-smi"
    assert first["util"] == 97.0 and first["temp_c"] == 71.0
    assert first["vram_used"] == 18342 * MIB and first["vram_total"] == 24564 * MIB
    assert first["vram_percent"] == round(100 * 18342 / 24564, 1)
    assert first["power_w"] == 412.4 and first["power_limit_w"] == 450.0
    assert first["clock_graphics_mhz"] == 2610 and first["clock_mem_mhz"] == 10501
    assert first["process_vram"] is None, "one CSV query per sample cannot also list processes"


def test_nvidia_smi_not_available_markers_become_null_and_commas_in_names_survive():
    laptop, tesla = parse_nvidia_smi_csv(NVIDIA_SMI_CSV)[1:]
    assert laptop["power_w"] is None and laptop["power_limit_w"] is None
    assert laptop["name"] == "NVIDIA GeForce GTX 1660 Ti with Max-Q Design, Laptop"
    assert tesla["util"] is None and tesla["temp_c"] is None and tesla["vram_percent"] == 0.0


def test_a_truncated_nvidia_smi_line_is_an_error_not_a_wrong_reading():
    with pytest.raises(ValueError, match="unexpected nvidia-smi line"):
        parse_nvidia_smi_csv("0, 97, 18342\n")
    assert parse_nvidia_smi_csv("\n\n") == []


def test_gpu_readings_refuse_unknown_keys():
    with pytest.raises(TypeError):
        gpu_reading(util=1, vram=3)


@pytest.fixture
def fake_tools(tmp_path):
    """A folder of executable scripts standing in for vendor command line tools."""
    if os.name == "nt":
        pytest.skip("the stand-in tools are POSIX shell scripts")
    folder = tmp_path / "bin"
    folder.mkdir()

    def make(name: str, body: str) -> Path:
        path = folder / name
        path.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n", encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return path

    def which(name: str):
        path = folder / name
        return str(path) if path.exists() else None

    return SimpleNamespace(make=make, which=which, folder=folder)


def _no_hardware_env(tmp_path, fake_tools=None, **overrides) -> ProbeEnvironment:
    """No NVML library, no amdsmi, an empty /sys/class/drm: only what the test adds is found."""
    class MissingLibrary:
        NVMLError = pynvml.NVMLError

        def nvmlInit(self):
            raise pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

        def amdsmi_init(self, *flags):
            raise ImportError("no amdsmi")

    (tmp_path / "drm").mkdir(exist_ok=True)
    env = ProbeEnvironment(platform="linux", drm_root=tmp_path / "drm",
                           which=fake_tools.which if fake_tools else (lambda name: None),
                           nvml=MissingLibrary(), amdsmi=MissingLibrary())
    for key, value in overrides.items():
        setattr(env, key, value)
    return env


async def test_nvidia_smi_backend_runs_one_real_subprocess_per_sample(tmp_path, fake_tools):
    calls = tmp_path / "calls.txt"
    fake_tools.make("nvidia-smi", f"open({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
                                  f"sys.stdout.write({NVIDIA_SMI_CSV!r})")
    probes = await probe_all(inline, _no_hardware_env(tmp_path, fake_tools))
    chosen = {p.name: p for p in probes}
    assert chosen["nvml"].backend is None and "NVML" in chosen["nvml"].reason
    backend = chosen["nvidia-smi"].backend
    assert isinstance(backend, NvidiaSmiBackend) and backend.names[0] == "NVIDIA GeForce RTX 4090"
    readings = await backend.read()
    assert [g["util"] for g in readings] == [97.0, 0.0, None]
    lines = calls.read_text().splitlines()
    assert len(lines) == 2, "one call to detect, one per sample"
    assert lines[-1].startswith("--query-gpu=index,utilization.gpu,memory.used") and "noheader,nounits" in lines[-1]


async def test_a_hanging_tool_is_killed_after_its_timeout_and_the_loop_keeps_running(tmp_path, fake_tools):
    tool = fake_tools.make("slow-smi", "time.sleep(30)")
    ticks = 0

    async def heartbeat():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    beat = asyncio.ensure_future(heartbeat())
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="did not answer"):
        await run_tool([str(tool)], timeout=0.5)
    beat.cancel()
    assert time.monotonic() - started < 5
    assert ticks >= 10, "the event loop kept running while the tool hung"


async def test_a_failing_tool_reports_its_exit_status_and_message(fake_tools):
    tool = fake_tools.make("broken-smi", "sys.stderr.write('NVIDIA-SMI has failed because it could not communicate'); sys.exit(9)")
    with pytest.raises(RuntimeError, match="exited with 9: NVIDIA-SMI has failed"):
        await run_tool([str(tool)])


async def test_gpu_set_returns_stale_values_while_a_backend_hangs_and_fresh_ones_after(tmp_path, fake_tools):
    gate = tmp_path / "gate"
    fake_tools.make("nvidia-smi", f"import os\nwhile os.path.exists({str(gate)!r}): time.sleep(0.02)\n"
                                  f"sys.stdout.write({NVIDIA_SMI_CSV!r})")
    probes = await probe_all(inline, _no_hardware_env(tmp_path, fake_tools))
    backend = next(p.backend for p in probes if p.name == "nvidia-smi")
    gpus = GpuSet([backend], probes, timeout=1.0)  # room for a slow interpreter start on a loaded machine
    first = await gpus.read()
    assert [g["id"] for g in first] == [0, 1, 2] and not any(g.get("stale") for g in first)
    gate.write_text("hold")
    held = await gpus.read()
    assert [g["util"] for g in held] == [g["util"] for g in first] and all(g["stale"] for g in held)
    assert "not answering" in gpus.errors["nvidia-smi"]
    again = await gpus.read()
    assert all(g["stale"] for g in again), "the hung call is not started a second time"
    gate.unlink()
    await asyncio.sleep(0.2)
    fresh = await gpus.read()
    assert not any(g.get("stale") for g in fresh) and not gpus.errors


# -- NVML, replaced at the library boundary ------------------------------------
class FakeNvml:
    """The calls of ``pynvml`` the backend makes, answering like a two-GPU machine.

    Uses pynvml's own constants and error class, so only the C library is missing.
    """

    NVMLError = pynvml.NVMLError
    NVML_TEMPERATURE_GPU = pynvml.NVML_TEMPERATURE_GPU
    NVML_CLOCK_GRAPHICS = pynvml.NVML_CLOCK_GRAPHICS
    NVML_CLOCK_MEM = pynvml.NVML_CLOCK_MEM

    def __init__(self, own_pid: int, *, v3_missing: bool = False):
        self.own_pid = own_pid
        self.v3_missing = v3_missing
        self.calls: list[str] = []
        self.shut_down = False
        self.block = threading.Event()
        self.block.set()

    def _log(self, name):
        self.calls.append(name)

    def nvmlInit(self):
        self._log("init")

    def nvmlShutdown(self):
        self.shut_down = True

    def nvmlDeviceGetCount(self):
        return 2

    def nvmlDeviceGetHandleByIndex(self, index):
        return f"handle{index}"

    def nvmlDeviceGetName(self, handle):
        return b"NVIDIA GeForce RTX 3090" if handle == "handle0" else "NVIDIA A100-SXM4-40GB"

    def nvmlDeviceGetUtilizationRates(self, handle):
        self.block.wait(10)
        return SimpleNamespace(gpu=88 if handle == "handle0" else 3, memory=40)

    def nvmlDeviceGetMemoryInfo(self, handle):
        return SimpleNamespace(total=24 * 1024 * MIB, used=20 * 1024 * MIB, free=4 * 1024 * MIB)

    def nvmlDeviceGetTemperature(self, handle, sensor):
        assert sensor == pynvml.NVML_TEMPERATURE_GPU
        return 66

    def nvmlDeviceGetPowerUsage(self, handle):
        if handle == "handle1":
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return 331_456  # milliwatts

    def nvmlDeviceGetEnforcedPowerLimit(self, handle):
        return 350_000

    def nvmlDeviceGetClockInfo(self, handle, kind):
        return {pynvml.NVML_CLOCK_GRAPHICS: 1950, pynvml.NVML_CLOCK_MEM: 9751}[kind]

    def _processes(self):
        return [SimpleNamespace(pid=self.own_pid, usedGpuMemory=7 * 1024 * MIB),
                SimpleNamespace(pid=1, usedGpuMemory=512 * MIB),
                SimpleNamespace(pid=self.own_pid + 1, usedGpuMemory=None)]

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        self._log("processes_v3")
        if self.v3_missing:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
        return self._processes()

    def nvmlDeviceGetComputeRunningProcesses_v2(self, handle):
        self._log("processes_v2")
        return self._processes()


def test_nvml_readings_use_the_documented_calls_and_units():
    nvml = FakeNvml(own_pid=4242)
    backend = NvmlBackend.open_sync(inline, nvml, pid=4242, pid_visible=True)
    first, second = backend.read_sync()
    assert first["name"] == "NVIDIA GeForce RTX 3090" and second["name"] == "NVIDIA A100-SXM4-40GB"
    assert first["util"] == 88.0 and first["temp_c"] == 66.0
    assert first["vram_used"] == 20 * 1024 * MIB and first["vram_total"] == 24 * 1024 * MIB and first["vram_percent"] == 83.3
    assert first["power_w"] == 331.5 and first["power_limit_w"] == 350.0
    assert first["clock_graphics_mhz"] == 1950 and first["clock_mem_mhz"] == 9751
    assert first["process_vram"] == 7 * 1024 * MIB, "only our own PID counts"
    assert second["power_w"] is None, "an unsupported field is null, the rest still read"
    backend.close_sync()
    assert nvml.shut_down


def test_nvml_falls_back_to_the_v2_process_call_on_older_drivers():
    nvml = FakeNvml(own_pid=99, v3_missing=True)
    backend = NvmlBackend.open_sync(inline, nvml, pid=99, pid_visible=True)
    assert backend.read_sync()[0]["process_vram"] == 7 * 1024 * MIB
    backend.read_sync()
    assert nvml.calls.count("processes_v3") == 1, "the working call is remembered"


def test_per_process_vram_is_unknown_inside_a_pid_namespace():
    assert pid_namespace_is_nested("Name:\tpython\nNSpid:\t812\t1\n")
    assert not pid_namespace_is_nested("Name:\tpython\nNSpid:\t812\n")
    backend = NvmlBackend.open_sync(inline, FakeNvml(own_pid=1), pid=1, pid_visible=False)
    assert backend.read_sync()[0]["process_vram"] is None


async def test_nvml_is_preferred_and_nvidia_smi_is_not_probed_when_it_works(tmp_path, fake_tools):
    fake_tools.make("nvidia-smi", "raise SystemExit('must not run')")
    env = _no_hardware_env(tmp_path, fake_tools, nvml=FakeNvml(own_pid=os.getpid()))
    probes = await probe_all(inline, env)
    assert [p.name for p in probes if p.backend] == ["nvml"]
    assert "nvidia-smi" not in [p.name for p in probes]
    gpus = GpuSet([p.backend for p in probes if p.backend], probes)
    assert [d["name"] for d in gpus.status()["devices"]] == ["NVIDIA GeForce RTX 3090", "NVIDIA A100-SXM4-40GB"]


async def test_no_gpu_anywhere_is_reported_with_what_was_tried(tmp_path):
    probes = await probe_all(inline, _no_hardware_env(tmp_path))
    status = GpuSet([], probes).status()
    assert status["message"] == "No GPU found" and status["devices"] == [] and status["backends"] == []
    reasons = {t["backend"]: t["reason"] for t in status["tried"]}
    assert set(reasons) == {"nvml", "nvidia-smi", "amdsmi", "sysfs", "rocm-smi", "ioreg"}
    assert reasons["ioreg"] == "macOS only" and "not found" in reasons["nvidia-smi"]
    assert await GpuSet([], probes).read() == []


# -- AMD: amdsmi at the library boundary ------------------------------------------
class FakeAmdSmi:
    """``amdsmi`` answering like a Radeon RX 7900 XTX (units per the AMD SMI reference)."""

    class AmdSmiInitFlags:
        INIT_AMD_GPUS = 2

    class AmdSmiTemperatureType:
        EDGE, HOTSPOT = "edge", "hotspot"

    class AmdSmiTemperatureMetric:
        CURRENT = "current"

    class AmdSmiClkType:
        GFX, MEM = "gfx", "mem"

    class AmdSmiLibraryException(Exception):
        pass

    def __init__(self, own_pid):
        self.own_pid = own_pid
        self.flags = None

    def amdsmi_init(self, flags=None):
        self.flags = flags

    def amdsmi_shut_down(self):
        self.flags = "closed"

    def amdsmi_get_processor_handles(self):
        return ["gpu0"]

    def amdsmi_get_gpu_asic_info(self, handle):
        return {"market_name": "Radeon RX 7900 XTX", "vendor_id": "0x1002"}

    def amdsmi_get_gpu_activity(self, handle):
        return {"gfx_activity": 64, "umc_activity": 20, "mm_activity": "N/A"}

    def amdsmi_get_gpu_vram_usage(self, handle):
        return {"vram_total": 24560, "vram_used": 13100}  # MB

    def amdsmi_get_power_info(self, handle):
        return {"current_socket_power": "N/A", "average_socket_power": 287, "power_limit": 327}

    def amdsmi_get_power_cap_info(self, handle):
        return {"power_cap": 327_000_000}  # µW

    def amdsmi_get_temp_metric(self, handle, sensor, metric):
        if sensor == "edge":
            raise self.AmdSmiLibraryException("AMDSMI_STATUS_NOT_SUPPORTED")
        return 71

    def amdsmi_get_clock_info(self, handle, kind):
        return {"clk": 2498 if kind == "gfx" else 1250, "min_clk": 500, "max_clk": 2700}

    def amdsmi_get_gpu_process_list(self, handle):
        return [{"name": "python", "pid": self.own_pid, "mem": 1, "memory_usage": {"vram_mem": 9 * 1024 * MIB}},
                {"name": "Xorg", "pid": 1, "mem": 1, "memory_usage": {"vram_mem": 300 * MIB}}]


def test_amdsmi_readings_follow_the_library_units():
    lib = FakeAmdSmi(own_pid=321)
    backend = AmdSmiBackend.open_sync(inline, lib, pid=321)
    assert lib.flags == 2
    (gpu,) = backend.read_sync()
    assert gpu["name"] == "Radeon RX 7900 XTX" and gpu["vendor"] == "amd" and gpu["backend"] == "amdsmi"
    assert gpu["util"] == 64.0 and gpu["vram_used"] == 13100 * MIB and gpu["vram_total"] == 24560 * MIB
    assert gpu["temp_c"] == 71.0, "the hotspot sensor is used when edge is not supported"
    assert gpu["power_w"] == 287.0 and gpu["power_limit_w"] == 327.0
    assert gpu["clock_graphics_mhz"] == 2498 and gpu["clock_mem_mhz"] == 1250
    assert gpu["process_vram"] == 9 * 1024 * MIB
    backend.close_sync()
    assert lib.flags == "closed"


# -- AMD: a recorded sysfs tree --------------------------------------------------------
def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


def make_drm_tree(root: Path, *, symlinks: bool) -> Path:
    """``/sys/class/drm`` of a desktop with an AMD dGPU (card1), an Intel iGPU (card0) and connectors."""
    drm = root / "drm"
    pci = root / "devices" / "pci0000:00" / "0000:03:00.0"
    _write(pci / "vendor", "0x1002")
    _write(pci / "gpu_busy_percent", "37")
    _write(pci / "mem_info_vram_used", str(5 * 1024 * MIB))
    _write(pci / "mem_info_vram_total", str(16 * 1024 * MIB))
    _write(pci / "product_name", "AMD Radeon RX 6800 XT")
    hwmon = pci / "hwmon" / "hwmon4"
    _write(hwmon / "name", "amdgpu")
    _write(hwmon / "temp1_input", "54000")
    _write(hwmon / "temp1_label", "edge")
    _write(hwmon / "power1_average", "186000000")
    _write(hwmon / "power1_cap", "272000000")
    _write(hwmon / "freq1_input", "2321000000")
    _write(hwmon / "freq2_input", "1000000000")
    intel = root / "devices" / "pci0000:00" / "0000:00:02.0"
    _write(intel / "vendor", "0x8086")
    for name in ("card0-HDMI-A-1", "card1-DP-1", "renderD128", "version"):
        (drm / name).mkdir(parents=True)
    (drm / "card0").mkdir()
    (drm / "card1").mkdir()
    if symlinks:
        (drm / "card0" / "device").symlink_to(intel, target_is_directory=True)
        (drm / "card1" / "device").symlink_to(pci, target_is_directory=True)
    else:
        import shutil
        shutil.copytree(intel, drm / "card0" / "device")
        shutil.copytree(pci, drm / "card1" / "device")
    return drm


def test_only_amd_cards_are_found_not_connectors_or_other_vendors(tmp_path):
    drm = make_drm_tree(tmp_path, symlinks=False)
    assert [c.name for c in find_amd_sysfs_cards(drm)] == ["card1"]
    assert find_amd_sysfs_cards(tmp_path / "missing") == []


def test_a_sysfs_card_reads_load_vram_and_hwmon_in_the_right_units(tmp_path):
    drm = make_drm_tree(tmp_path, symlinks=False)
    gpu = read_sysfs_card(drm / "card1", 0)
    assert gpu["name"] == "AMD Radeon RX 6800 XT" and gpu["backend"] == "sysfs"
    assert gpu["util"] == 37.0 and gpu["vram_percent"] == 31.2
    assert gpu["temp_c"] == 54.0 and gpu["power_w"] == 186.0 and gpu["power_limit_w"] == 272.0
    assert gpu["clock_graphics_mhz"] == 2321 and gpu["clock_mem_mhz"] == 1000


def test_a_sysfs_card_with_newer_power_file_and_missing_hwmon_still_reads(tmp_path):
    drm = make_drm_tree(tmp_path, symlinks=False)
    hwmon = drm / "card1" / "device" / "hwmon" / "hwmon4"
    (hwmon / "power1_average").unlink()
    _write(hwmon / "power1_input", "95500000")
    assert read_sysfs_card(drm / "card1")["power_w"] == 95.5
    import shutil
    shutil.rmtree(drm / "card1" / "device" / "hwmon")
    (drm / "card1" / "device" / "product_name").unlink()
    gpu = read_sysfs_card(drm / "card1")
    assert gpu["temp_c"] is None and gpu["power_w"] is None and gpu["name"] == "AMD GPU (card1)"
    assert gpu["util"] == 37.0


FDINFO_AMDGPU = """pos:\t0
flags:\t02100002
mnt_id:\t24
ino:\t1074
drm-driver:\tamdgpu
drm-client-id:\t17
drm-pdev:\t0000:03:00.0
pasid:\t32775
drm-memory-vram:\t6291456 KiB
drm-memory-gtt: \t2048 KiB
drm-engine-gfx:\t123456789 ns
"""


def test_drm_fdinfo_gives_the_vram_a_client_holds():
    info = parse_drm_fdinfo(FDINFO_AMDGPU)
    assert info == {"drm-driver": "amdgpu", "drm-client-id": "17", "drm-pdev": "0000:03:00.0", "vram": 6 * 1024 * MIB}
    assert "vram" not in parse_drm_fdinfo("pos:\t0\nflags:\t0100002\n")


@pytest.mark.skipif(os.name == "nt", reason="fd symlinks are a Linux /proc layout")
async def test_sysfs_backend_counts_our_own_vram_once_per_client(tmp_path):
    drm = make_drm_tree(tmp_path, symlinks=True)
    proc = tmp_path / "proc_self"
    (proc / "fd").mkdir(parents=True)
    (proc / "fdinfo").mkdir()
    for fd, target, info in [("7", "/dev/dri/renderD128", FDINFO_AMDGPU),
                             ("8", "/dev/dri/renderD128", FDINFO_AMDGPU),  # dup of the same client
                             ("9", "/dev/dri/card1", FDINFO_AMDGPU.replace("client-id:\t17", "client-id:\t18")
                              .replace("6291456 KiB", "1024 MiB")),
                             ("3", "/tmp/log.txt", "pos:\t0\n")]:
        (proc / "fd" / fd).symlink_to(target)
        _write(proc / "fdinfo" / fd, info)
    assert own_drm_vram_by_pdev(proc) == {"0000:03:00.0": 7 * 1024 * MIB}
    backend = SysfsAmdBackend(inline, find_amd_sysfs_cards(drm), proc_self=proc)
    (gpu,) = await backend.read()
    if sys.platform.startswith("linux"):
        assert gpu["process_vram"] == 7 * 1024 * MIB
    else:
        assert gpu["process_vram"] is None


async def test_detection_uses_sysfs_for_amd_when_no_amd_library_is_installed(tmp_path):
    drm = make_drm_tree(tmp_path, symlinks=False)
    probes = await probe_all(inline, _no_hardware_env(tmp_path, drm_root=drm))
    used = [p for p in probes if p.backend]
    assert [p.name for p in used] == ["sysfs"]
    assert "rocm-smi" not in [p.name for p in probes], "a cheaper AMD backend already works"


# -- AMD: rocm-smi JSON -----------------------------------------------------------------
ROCM_SMI_JSON = """{"card0": {"GPU use (%)": "43", "Temperature (Sensor edge) (C)": "52.0",
 "Temperature (Sensor junction) (C)": "60.0", "Temperature (Sensor memory) (C)": "58.0",
 "Average Graphics Package Power (W)": "187.0", "Max Graphics Package Power (W)": "303.0",
 "fclk clock speed:": "(1940Mhz)", "mclk clock speed:": "(1249Mhz)", "sclk clock speed:": "(2482Mhz)",
 "socclk clock speed:": "(1200Mhz)", "VRAM Total Memory (B)": "25753026560", "VRAM Total Used Memory (B)": "9874182144"},
 "card1": {"GPU use (%)": "0", "Temperature (Sensor junction) (C)": "35.0",
 "Current Socket Graphics Package Power (W)": "91.0", "VRAM Total Memory (B)": "68702699520",
 "VRAM Total Used Memory (B)": "10960896"},
 "system": {"Driver version": "6.7.0"}}"""


def test_rocm_smi_json_is_read_by_key_names_across_versions():
    first, second = parse_rocm_smi_json(ROCM_SMI_JSON)
    assert first["util"] == 43.0 and first["temp_c"] == 52.0 and first["power_w"] == 187.0
    assert first["power_limit_w"] == 303.0 and first["clock_graphics_mhz"] == 2482 and first["clock_mem_mhz"] == 1249
    assert first["vram_used"] == 9874182144 and first["vram_total"] == 25753026560 and first["backend"] == "rocm-smi"
    assert second["temp_c"] == 35.0 and second["power_w"] == 91.0 and second["clock_graphics_mhz"] is None
    assert second["index"] == 1


# -- Apple: ioreg -------------------------------------------------------------------------
IOREG_APPLE_SILICON = """+-o AGXAcceleratorG14X  <class AGXAcceleratorG14X, id 0x1000003d5, registered, matched, active, busy 0 (0 ms), retain 162>
    {
      "IOClass" = "AGXAcceleratorG14X"
      "model" = "Apple M3 Pro"
      "gpu-core-count" = 18
      "PerformanceStatistics" = {"In use system memory (driver)"=0,"Alloc system memory"=4180918272,"Tiler Utilization %"=11,"recoveryCount"=0,"Renderer Utilization %"=23,"In use system memory"=1561788416,"Device Utilization %"=27}
      "AGXParameterBufferMaxSize" = 1073741824
    }
"""

IOREG_INTEL_MAC = """+-o AMDRadeonX6000_AMDNavi10GraphicsAccelerator  <class AMDRadeonX6000_AMDNavi10GraphicsAccelerator, id 0x100000477, registered>
    {
      "PerformanceStatistics" = {"vramUsedBytes"=1258291200,"vramFreeBytes"=7331643392,"Device Utilization %"=4,"GPU Activity(%)"=4}
    }
+-o IntelAccelerator  <class IntelAccelerator, id 0x1000004a2, registered>
    {
      "IOClass" = "IntelAccelerator"
    }
"""


def test_ioreg_apple_silicon_reports_load_and_unified_memory_without_root():
    (gpu,) = parse_ioreg_accelerators(IOREG_APPLE_SILICON, ram_total=36 * 1024 * 1024 * MIB)
    assert gpu["name"] == "Apple M3 Pro" and gpu["vendor"] == "apple" and gpu["util"] == 27.0
    assert gpu["vram_used"] == 1561788416 and gpu["vram_total"] == 36 * 1024 * 1024 * MIB and gpu["unified_memory"]
    assert gpu["temp_c"] is None and gpu["power_w"] is None, "those need root (powermetrics)"


def test_ioreg_intel_mac_discrete_gpu_reports_its_own_vram_and_skips_blocks_without_statistics():
    (gpu,) = parse_ioreg_accelerators(IOREG_INTEL_MAC, ram_total=None)
    assert gpu["name"].startswith("AMDRadeonX6000") and gpu["util"] == 4.0
    assert gpu["vram_used"] == 1258291200 and gpu["vram_total"] == 1258291200 + 7331643392
    assert gpu["unified_memory"] is False


async def test_a_vendor_library_that_cannot_be_used_says_why(tmp_path):
    """No GPU, a missing library and a failing library each give their own reason, and a library
    opened for nothing is shut down again."""
    class NoGpuNvml(FakeNvml):
        def nvmlDeviceGetCount(self):
            return 0

    empty = NoGpuNvml(own_pid=1)
    probes = {p.name: p for p in await probe_all(inline, _no_hardware_env(tmp_path, nvml=empty),
                                                 stop_at_first_per_vendor=False)}
    assert probes["nvml"].backend is None and probes["nvml"].reason == "NVML reports no NVIDIA GPU"
    assert empty.shut_down, "NVML is released when it lists no GPU"
    assert probes["amdsmi"].reason == "the amdsmi library is not installed"

    class BrokenNvml(FakeNvml):
        def nvmlInit(self):
            raise RuntimeError("driver/library version mismatch")

    probes = {p.name: p for p in await probe_all(inline, _no_hardware_env(tmp_path, nvml=BrokenNvml(own_pid=1)),
                                                 stop_at_first_per_vendor=False)}
    assert probes["nvml"].reason == "NVML unavailable: driver/library version mismatch"
