//! The build: the operator, the simulator, every test program and benchmark.
//!
//!   zig build                  the tidb-operator and kubesim binaries (zig-out/bin)
//!   zig build test             every test program, then one "N passed, N failed" line
//!   zig build test -Dvalgrind=true   the same under valgrind memcheck
//!   zig build dst -- ARGS      the deterministic simulation (test/dst), optimised
//!
//! Sources are found by folder, so adding a module or a test needs no edit here:
//! - every `*.c` in the product rooms (reactor, watchers, pd, reconcilers, storage)
//!   and their sub-rooms (reconcilers/api, reconcilers/planner, ...) except a
//!   `main.c` goes into the static library `operator`;
//! - every `*.c` in test/sim except `main.c` goes into the static library `sim`;
//! - `reconcilers/runtime/main.c` is the tidb-operator binary, `test/sim/main.c` kubesim;
//! - every `test/unit/test_*.c` is one test program linked with both libraries
//!   and test/support; `test/bench/bench_*.c` are benchmarks (`zig build bench`);
//! - every `*.c` in test/dst except `main.c` is the simulation engine, linked into
//!   `test/dst/main.c` (the tidb-dst program) and into test/unit/test_dst.c.
const std = @import("std");

const product_rooms = [_][]const u8{ "reactor", "watchers", "pd", "reconcilers", "storage" };
const llhttp_sources = [_][]const u8{ "/usr/share/llhttp/api.c", "/usr/share/llhttp/http.c", "/usr/share/llhttp/llhttp.c" };
const llhttp_include = "/usr/share/include/llhttp";

const warnings = [_][]const u8{
    "-std=gnu11",        "-D_GNU_SOURCE",        "-Wall",      "-Wextra",
    "-Werror",           "-Wno-unused-parameter", "-Wshadow",  "-Wstrict-prototypes",
    "-Wmissing-prototypes", "-fno-strict-aliasing",
};

/// The `*.c` files of one folder (sorted, so builds are reproducible), relative to the
/// build root. `want` selects by file name.
fn cFiles(b: *std.Build, dir_path: []const u8, want: *const fn ([]const u8) bool) []const []const u8 {
    var list = std.ArrayList([]const u8).init(b.allocator);
    var dir = std.fs.cwd().openIterableDir(b.pathFromRoot(dir_path), .{}) catch return list.items;
    defer dir.close();
    var it = dir.iterate();
    while (it.next() catch null) |entry| {
        if (entry.kind != .file or !std.mem.endsWith(u8, entry.name, ".c")) continue;
        if (!want(entry.name)) continue;
        list.append(b.fmt("{s}/{s}", .{ dir_path, entry.name })) catch @panic("out of memory");
    }
    std.mem.sort([]const u8, list.items, {}, struct {
        fn lessThan(_: void, a: []const u8, c: []const u8) bool {
            return std.mem.lessThan(u8, a, c);
        }
    }.lessThan);
    return list.items;
}

/// The `*.c` files of one room and every folder below it (sorted), relative to the
/// build root.
fn cFilesTree(b: *std.Build, dir_path: []const u8, want: *const fn ([]const u8) bool) []const []const u8 {
    var list = std.ArrayList([]const u8).init(b.allocator);
    var dir = std.fs.cwd().openIterableDir(b.pathFromRoot(dir_path), .{}) catch return list.items;
    defer dir.close();
    var walker = dir.walk(b.allocator) catch @panic("out of memory");
    defer walker.deinit();
    while (walker.next() catch null) |entry| {
        if (entry.kind != .file or !std.mem.endsWith(u8, entry.basename, ".c")) continue;
        if (!want(entry.basename)) continue;
        list.append(b.fmt("{s}/{s}", .{ dir_path, entry.path })) catch @panic("out of memory");
    }
    std.mem.sort([]const u8, list.items, {}, struct {
        fn lessThan(_: void, a: []const u8, c: []const u8) bool {
            return std.mem.lessThan(u8, a, c);
        }
    }.lessThan);
    return list.items;
}

fn isLibrarySource(name: []const u8) bool {
    return !std.mem.eql(u8, name, "main.c");
}
fn isTestProgram(name: []const u8) bool {
    return std.mem.startsWith(u8, name, "test_");
}
fn isBenchmark(name: []const u8) bool {
    return std.mem.startsWith(u8, name, "bench_");
}
fn isScenario(name: []const u8) bool {
    return std.mem.startsWith(u8, name, "e2e_");
}
fn anyFile(name: []const u8) bool {
    _ = name;
    return true;
}

fn linkSystem(step: *std.Build.Step.Compile) void {
    step.linkLibC();
    for ([_][]const u8{ "uv", "curl", "cjson", "yaml", "mbedtls", "mbedx509", "mbedcrypto", "m" }) |lib| {
        step.linkSystemLibrary2(lib, .{ .use_pkg_config = .no });
    }
    step.addIncludePath(.{ .path = llhttp_include });
    step.addIncludePath(.{ .path = "." });
}

/// The product library (every room's modules plus llhttp) and the simulator library,
/// built at one optimisation mode. Benchmarks want their own, optimised copies.
const Libraries = struct { operator: *std.Build.Step.Compile, sim: ?*std.Build.Step.Compile };

fn libraries(b: *std.Build, target: std.zig.CrossTarget, optimize: std.builtin.OptimizeMode) Libraries {
    const suffix = if (optimize == .ReleaseFast) "-fast" else "";
    const operator_lib = b.addStaticLibrary(.{ .name = b.fmt("operator{s}", .{suffix}), .target = target, .optimize = optimize });
    for (product_rooms) |room| {
        operator_lib.addCSourceFiles(.{ .files = cFilesTree(b, room, isLibrarySource), .flags = &warnings });
    }
    operator_lib.addCSourceFiles(.{ .files = &llhttp_sources, .flags = &.{"-std=gnu11"} });
    linkSystem(operator_lib);
    const sim_sources = cFiles(b, "test/sim", isLibrarySource);
    if (sim_sources.len == 0) return .{ .operator = operator_lib, .sim = null };
    const sim_lib = b.addStaticLibrary(.{ .name = b.fmt("sim{s}", .{suffix}), .target = target, .optimize = optimize });
    sim_lib.addCSourceFiles(.{ .files = sim_sources, .flags = &warnings });
    linkSystem(sim_lib);
    return .{ .operator = operator_lib, .sim = sim_lib };
}

/// One executable from `sources`, linked with the libraries and the system libraries.
fn program(b: *std.Build, name: []const u8, sources: []const []const u8, libs: Libraries, target: std.zig.CrossTarget, optimize: std.builtin.OptimizeMode) *std.Build.Step.Compile {
    const exe = b.addExecutable(.{ .name = name, .target = target, .optimize = optimize });
    exe.addCSourceFiles(.{ .files = sources, .flags = &warnings });
    // The product binary never contains the simulator.
    if (!std.mem.eql(u8, name, "tidb-operator")) {
        if (libs.sim) |sim| exe.linkLibrary(sim);
    }
    exe.linkLibrary(libs.operator);
    linkSystem(exe);
    return exe;
}

/// A run of the test runner; the caller adds the programs.
fn testRun(b: *std.Build, runner: *std.Build.Step.Compile, valgrind: bool, operator_exe: *std.Build.Step.Compile, kubesim_exe: ?*std.Build.Step.Compile) *std.Build.Step.Run {
    const run = b.addRunArtifact(runner);
    run.has_side_effects = true;
    run.stdio = .inherit;
    if (valgrind) run.addArg("--valgrind");
    run.addPrefixedFileArg("--env=TIDB_OPERATOR_BIN=", operator_exe.getEmittedBin());
    if (kubesim_exe) |exe| run.addPrefixedFileArg("--env=KUBESIM_BIN=", exe.getEmittedBin());
    return run;
}

fn exists(b: *std.Build, path: []const u8) bool {
    std.fs.cwd().access(b.pathFromRoot(path), .{}) catch return false;
    return true;
}

pub fn build(b: *std.Build) void {
    // A baseline x86-64 CPU, not the build machine's: the binaries must run on any node,
    // and valgrind cannot execute AVX-512 instructions.
    const target = b.standardTargetOptions(.{ .default_target = .{ .cpu_model = .baseline } });
    const optimize = b.standardOptimizeOption(.{});
    const valgrind = b.option(bool, "valgrind", "run the test programs under valgrind memcheck") orelse false;

    const libs = libraries(b, target, optimize);
    const support_sources = cFiles(b, "test/support", anyFile);

    // Binaries.
    const operator_exe = program(b, "tidb-operator", &.{"reconcilers/runtime/main.c"}, libs, target, optimize);
    b.installArtifact(operator_exe);
    var kubesim_exe: ?*std.Build.Step.Compile = null;
    if (exists(b, "test/sim/main.c")) {
        kubesim_exe = program(b, "kubesim", &.{"test/sim/main.c"}, libs, target, optimize);
        b.installArtifact(kubesim_exe.?);
    }

    // The demo: kubesim with its world plus the operator, one command
    // (README's run command: `./zigw build demo`).
    if (exists(b, "test/demo/main.c")) {
        const demo_sources = std.mem.concat(b.allocator, []const u8, &.{ &.{"test/demo/main.c"}, support_sources }) catch @panic("out of memory");
        const demo_exe = program(b, "tidb-demo", demo_sources, libs, target, optimize);
        b.installArtifact(demo_exe);
        const run_demo = b.addRunArtifact(demo_exe);
        run_demo.has_side_effects = true;
        run_demo.stdio = .inherit;
        run_demo.addPrefixedFileArg("--operator=", operator_exe.getEmittedBin());
        if (kubesim_exe) |exe| run_demo.addPrefixedFileArg("--kubesim=", exe.getEmittedBin());
        if (b.args) |args| run_demo.addArgs(args);
        const demo_step = b.step("demo", "Run kubesim with its world and the operator, apply the example cluster and watch it come up");
        demo_step.dependOn(&run_demo.step);
    }

    // Test programs and the runner that adds up their results. Unit programs
    // (test/unit/test_*.c) and end-to-end scenarios (test/e2e/e2e_*.c) both
    // find the binaries through TIDB_OPERATOR_BIN and KUBESIM_BIN.
    const runner = b.addExecutable(.{ .name = "test-runner", .target = target, .optimize = .ReleaseSafe });
    runner.addCSourceFiles(.{ .files = &.{"test/runner.c"}, .flags = &warnings });
    runner.linkLibC();
    // Planner purity: the planner, the builders and the API types compile
    // against poisoned copies of the loop, HTTP, metrics and client headers
    // (test/purity), so an include that would make them impure fails the build.
    const purity = b.addStaticLibrary(.{ .name = "planner-purity", .target = target, .optimize = optimize });
    purity.addIncludePath(.{ .path = "test/purity" });
    for ([_][]const u8{ "reconcilers/planner", "reconcilers/build", "reconcilers/api" }) |room| {
        purity.addCSourceFiles(.{ .files = cFilesTree(b, room, anyFile), .flags = &warnings });
    }
    linkSystem(purity);
    b.getInstallStep().dependOn(&purity.step);

    const build_tests = b.step("build-tests", "Build every test program into zig-out/test without running it");
    build_tests.dependOn(&purity.step);
    const all_tests = testRun(b, runner, valgrind, operator_exe, kubesim_exe);
    const e2e_tests = testRun(b, runner, valgrind, operator_exe, kubesim_exe);
    const suites = [_]struct { dir: []const u8, want: *const fn ([]const u8) bool }{
        .{ .dir = "test/unit", .want = isTestProgram },
        .{ .dir = "test/e2e", .want = isScenario },
    };
    const dst_sources = cFiles(b, "test/dst", isLibrarySource);
    // Benchmarks and the simulation are built optimised (test_dst too: its
    // hundreds of schedules would take minutes in a debug build).
    const fast = libraries(b, target, .ReleaseFast);
    for (suites) |suite| {
        for (cFiles(b, suite.dir, suite.want)) |source| {
            const with_dst = std.mem.eql(u8, std.fs.path.stem(source), "test_dst");
            const sources = std.mem.concat(b.allocator, []const u8, &.{ &.{source}, support_sources, if (with_dst) dst_sources else &.{} }) catch @panic("out of memory");
            const exe = if (with_dst)
                program(b, std.fs.path.stem(source), sources, fast, target, .ReleaseFast)
            else
                program(b, std.fs.path.stem(source), sources, libs, target, optimize);
            const install = b.addInstallArtifact(exe, .{ .dest_dir = .{ .override = .{ .custom = "test" } } });
            build_tests.dependOn(&install.step);
            all_tests.addArtifactArg(exe);
            if (suite.want == isScenario) e2e_tests.addArtifactArg(exe);
        }
    }
    const test_step = b.step("test", "Build and run every test program (-Dvalgrind=true: under memcheck)");
    test_step.dependOn(&all_tests.step);
    const e2e_step = b.step("e2e", "Build and run the end-to-end scenarios only");
    e2e_step.dependOn(&e2e_tests.step);

    // Benchmarks and the simulation: each prints its own figures.
    // The deterministic simulation (test/dst): `zig build dst -- --seeds 10000`.
    if (exists(b, "test/dst/main.c")) {
        const sources = std.mem.concat(b.allocator, []const u8, &.{ &.{"test/dst/main.c"}, dst_sources }) catch @panic("out of memory");
        const dst_exe = program(b, "tidb-dst", sources, fast, target, .ReleaseFast);
        const install_dst = b.addInstallArtifact(dst_exe, .{ .dest_dir = .{ .override = .{ .custom = "test" } } });
        build_tests.dependOn(&install_dst.step);
        const run_dst = b.addRunArtifact(dst_exe);
        run_dst.has_side_effects = true;
        run_dst.stdio = .inherit;
        if (b.args) |args| run_dst.addArgs(args);
        const dst_step = b.step("dst", "Run the deterministic simulation (after --: --seeds N, --seed S --trace, --mutations)");
        dst_step.dependOn(&run_dst.step);
    }
    const bench_step = b.step("bench", "Build and run every benchmark");
    for (cFiles(b, "test/bench", isBenchmark)) |source| {
        const name = std.fs.path.stem(source);
        const sources = std.mem.concat(b.allocator, []const u8, &.{ &.{source}, support_sources }) catch @panic("out of memory");
        const exe = program(b, name, sources, fast, target, .ReleaseFast);
        const run = b.addRunArtifact(exe);
        run.has_side_effects = true;
        run.stdio = .inherit;
        bench_step.dependOn(&run.step);
        const one = b.step(b.fmt("{s}", .{name}), b.fmt("Run the benchmark {s}", .{name}));
        one.dependOn(&run.step);
        // The issues spell them bench-watch, bench-sim, ...: both names work.
        const dashed = b.step(b.fmt("bench-{s}", .{name["bench_".len..]}), b.fmt("Same as {s}", .{name}));
        dashed.dependOn(&run.step);
    }
}
