#!/usr/bin/env bash
# Builds the libFuzzer targets for the safetensors, .npy, CSV, svmlight and SciPy .npz parsers
# (with AddressSanitizer; ZIPFoundation, resolved by SwiftPM, is compiled into the same module)
# and runs each for SECONDS (default 60), seeded from the test fixtures.
# A crash leaves crash-* in .build-fuzz/<target>/: turn it into a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build-fuzz
mkdir -p "$out"
[ -d .build/checkouts/ZIPFoundation ] || swift package resolve >/dev/null
zip=.build/checkouts/ZIPFoundation/Sources
sources=($(ls Sources/Shrink/Data/*.swift | grep -v -e SciPySparse -e DataLoader) Sources/Shrink/IO/*.swift Sources/Shrink/Random.swift)
fixtures=Tests/ShrinkTests/Fixtures/torch
sparse=Tests/ShrinkTests/Fixtures/sparse
for target in SafeTensors NPY CSV SVMLight NPZ; do
    mkdir -p "$out/$target/corpus"
    case $target in
        SafeTensors) for f in $fixtures/*/init.safetensors; do cp "$f" "$out/$target/corpus/$(basename "$(dirname "$f")").st"; done ;;
        NPY) for f in $fixtures/*/y.npy; do cp "$f" "$out/$target/corpus/$(basename "$(dirname "$f")").npy"; done ;;
        CSV) printf 'a,b,y\n1,2,0\n3.5,-4e-1,1\n' > "$out/$target/corpus/seed.csv"
             printf '"x,1",b\r\n1,2\r\n' > "$out/$target/corpus/quoted.csv" ;;
        SVMLight) cp $sparse/hand.svmlight "$out/$target/corpus/"; head -c 3000 $sparse/text.libsvm > "$out/$target/corpus/text.libsvm" ;;
        NPZ) cp $sparse/good.npz $sparse/bad_*.npz "$out/$target/corpus/" ;;
    esac
    extra=()  # only the .npz reader needs ZIPFoundation (and its zlib shim)
    [ "$target" = NPZ ] && extra=(Sources/Shrink/Data/SciPySparse.swift "$zip"/ZIPFoundation/*.swift
                                  -I "$zip/CZLib" -Xcc -D_GNU_SOURCE=1)
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name ShrinkFuzz \
        "${sources[@]}" "${extra[@]}" "scripts/fuzz/Fuzz$target.swift" -o "$out/fuzz-$target" >"$out/build-$target.log" 2>&1 || {
        cat "$out/build-$target.log"; exit 1; }
    echo "fuzzing $target for ${seconds}s"
    # ZIPFoundation's one known leak (scripts/fuzz/zipfoundation.supp says which) is suppressed.
    supp=""; [ "$target" = NPZ ] && supp="suppressions=$PWD/scripts/fuzz/zipfoundation.supp"
    (cd "$out/$target" && LSAN_OPTIONS="$supp" "../fuzz-$target" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 corpus >fuzz.log 2>&1) || {
        echo "fuzz-$target found a crash:"; tail -30 "$out/$target/fuzz.log"; exit 1; }
    grep -E "^#[0-9]+.*DONE" "$out/$target/fuzz.log" | tail -1 || tail -2 "$out/$target/fuzz.log"
done
