# Shared helpers for the image recipes; sourced by scripts/build-images and the build scripts
# under deploy/images/*/ (never run on its own).
#
# An image is rebuilt only when its recipe changed: every image we build carries the label
# org.pods-service.recipe=<sha256 of its recipe files>, and the build compares it with the hash
# of the files on disk.

# shellcheck shell=bash

RECIPE_LABEL=org.pods-service.recipe

# recipe_hash DIR...: sha256 over the relative paths and contents of every file under DIRs.
recipe_hash() {
    local dir
    for dir in "$@"; do
        (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    done | sha256sum | cut -d' ' -f1
}

# image_recipe TAG: the recipe label of a local image, empty when the image does not exist.
image_recipe() {
    docker image inspect --format "{{ index .Config.Labels \"$RECIPE_LABEL\" }}" "$1" \
        2>/dev/null || true
}

# image_is_current TAG HASH: true when TAG exists and was built from the recipe with HASH.
image_is_current() {
    [[ "$(image_recipe "$1")" == "$2" ]]
}

# image_id TAG: the id of a local image, empty when it does not exist.
image_id() {
    docker image inspect --format '{{ .Id }}' "$1" 2>/dev/null || true
}

# drop_replaced_image OLD_ID TAG: after TAG was rebuilt, removes the image it used to name, with
# its untagged parents (an old pods-postgres-base), unless something still uses it (docker
# refuses then: other tags, containers, child images).
drop_replaced_image() {
    if [[ -n "$1" && "$1" != "$(image_id "$2")" ]]; then
        docker image rm "$1" >/dev/null 2>&1 || true
    fi
}

# log MESSAGE...: a progress line for the build logs.
log() {
    printf '%s: %s\n' "${0##*/}" "$*"
}
