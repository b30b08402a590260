#!/usr/bin/env bash
# Builds the libFuzzer targets for the safetensors, .npy and CSV parsers (with AddressSanitizer)
# and runs each for SECONDS (default 60), seeded from the test fixtures.
# A crash leaves crash-* in .build-fuzz/<target>/: turn it into a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build-fuzz
mkdir -p "$out"
sources=(Sources/Shrink/Data/*.swift Sources/Shrink/IO/*.swift Sources/Shrink/Random.swift)
fixtures=Tests/ShrinkTests/Fixtures/torch
for target in SafeTensors NPY CSV; do
    mkdir -p "$out/$target/corpus"
    case $target in
        SafeTensors) for f in $fixtures/*/init.safetensors; do cp "$f" "$out/$target/corpus/$(basename "$(dirname "$f")").st"; done ;;
        NPY) for f in $fixtures/*/y.npy; do cp "$f" "$out/$target/corpus/$(basename "$(dirname "$f")").npy"; done ;;
        CSV) printf 'a,b,y\n1,2,0\n3.5,-4e-1,1\n' > "$out/$target/corpus/seed.csv"
             printf '"x,1",b\r\n1,2\r\n' > "$out/$target/corpus/quoted.csv" ;;
    esac
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name ShrinkFuzz \
        "${sources[@]}" "scripts/fuzz/Fuzz$target.swift" -o "$out/fuzz-$target" >"$out/build-$target.log" 2>&1 || {
        cat "$out/build-$target.log"; exit 1; }
    echo "fuzzing $target for ${seconds}s"
    (cd "$out/$target" && "../fuzz-$target" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 corpus >fuzz.log 2>&1) || {
        echo "fuzz-$target found a crash:"; tail -30 "$out/$target/fuzz.log"; exit 1; }
    grep -E "^#[0-9]+.*DONE" "$out/$target/fuzz.log" | tail -1 || tail -2 "$out/$target/fuzz.log"
done
