# Debian rootfs images: debootstrap --variant=minbase, packages added through
# `chroot ... apt-get`, the result imported with `docker import`. Sourced by the base-image
# recipes (neo4j-standin/base/build; postgres/base/build has the same steps inline, see the
# README); never run on its own. Packages come from the Debian mirror the machine's own apt
# uses (or PODS_DEBIAN_MIRROR / PODS_DEBIAN_SECURITY_MIRROR), nowhere else.
#
# Caches under $PODS_BUILD_DIR/cache: the debootstrapped rootfs as a tarball (shared) and the
# .deb files of each image's last install, so a rebuild downloads (almost) nothing.
#
# Use: debian_begin NAME; (chroot set-up with in_root); debian_install PKG...; debian_clean;
#      debian_import TAG RECIPE MESSAGE [--change ...]

# shellcheck shell=bash

DEBIAN_SUITE=bookworm

# debian_apt_source SUITE: the first URI the machine's apt uses for SUITE.
debian_apt_source() {
    local deb822=(/etc/apt/sources.list.d/*.sources)
    local oneline=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
    {
        awk -v want="$1" '
            function flush(  n, i, s, u) {
                if (types ~ /(^|[ \t])deb([ \t]|$)/) {
                    n = split(suites, s, /[ \t]+/)
                    for (i = 1; i <= n; i++)
                        if (s[i] == want) { split(uris, u, /[ \t]+/); print u[1]; found = 1; exit }
                }
                types = suites = uris = ""
            }
            FNR == 1 || /^[ \t]*$/ { flush() }
            /^#/ { next }
            tolower($1) == "types:" { types = " " substr($0, index($0, ":") + 1) " " }
            tolower($1) == "suites:" { sub(/^[^:]*:[ \t]*/, ""); suites = $0 }
            tolower($1) == "uris:" { sub(/^[^:]*:[ \t]*/, ""); uris = $0 }
            END { if (!found) flush() }
        ' "${deb822[@]}" 2>/dev/null || true
        awk -v want="$1" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
                if ($(i + 1) == want) { print $i; exit }
            }
        ' "${oneline[@]}" 2>/dev/null || true
    } | head -n1
}

# debian_begin NAME: a fresh rootfs in $root (work dir $work, removed on exit), configured to
# install from the machine's mirror without starting services.
debian_begin() {
    local name="$1" mirror security tarball
    cache="${PODS_BUILD_DIR:?}/cache"
    work="$PODS_BUILD_DIR/images/$name"
    root="$work/rootfs"
    archives_cache="$cache/apt-archives-$name"
    mirror="${PODS_DEBIAN_MIRROR:-$(debian_apt_source "$DEBIAN_SUITE")}"
    mirror="${mirror:-http://deb.debian.org/debian}"
    security="${PODS_DEBIAN_SECURITY_MIRROR:-$(debian_apt_source "$DEBIAN_SUITE-security")}"
    security="${security:-http://deb.debian.org/debian-security}"
    valid_until=true  # keep the machine's policy on expired Release files
    eval "$(apt-config shell valid_until Acquire::Check-Valid-Until/b)"
    trap 'rm -rf "$work"' EXIT
    rm -rf "$work"
    mkdir -p "$work" "$cache/debootstrap" "$archives_cache"
    tarball="$cache/debootstrap/$DEBIAN_SUITE-minbase-$(printf '%s' "$mirror" | sha256sum | cut -c1-12).tar"
    if [[ ! -s "$tarball" ]]; then
        log "debootstrap --variant=minbase $DEBIAN_SUITE from $mirror"
        debootstrap --variant=minbase "$DEBIAN_SUITE" "$work/debootstrap" "$mirror"
        find "$work/debootstrap/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -delete
        tar --numeric-owner -C "$work/debootstrap" -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf "$work/debootstrap"
    fi
    log "unpacking $tarball"
    mkdir "$root"
    tar --numeric-owner -xpf "$tarball" -C "$root"
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 0755 "$root/usr/sbin/policy-rc.d"
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
        "$mirror" "$DEBIAN_SUITE" "$mirror" "$DEBIAN_SUITE" "$security" "$DEBIAN_SUITE" \
        >"$root/etc/apt/sources.list"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf"
    find "$archives_cache" -maxdepth 1 -name '*.deb' -exec cp -t "$root/var/cache/apt/archives/" {} +
}

# in_root CMD...: runs CMD inside the rootfs with a clean environment.
in_root() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}

# debian_install PKG...: upgrades the rootfs and installs PKGs (no recommends).
debian_install() {
    local apt_opts=(-q -o "Acquire::Check-Valid-Until=$valid_until" -o APT::Install-Recommends=false)
    log "installing $*"
    in_root apt-get "${apt_opts[@]}" update
    in_root apt-get "${apt_opts[@]}" -y upgrade
    in_root apt-get "${apt_opts[@]}" -y install "$@"
    find "$archives_cache" -maxdepth 1 -name '*.deb' -delete
    find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -t "$archives_cache/" {} +
}

# debian_clean: leaves out apt's caches, logs, documentation and the build's DNS settings.
debian_clean() {
    log "cleaning the rootfs"
    in_root apt-get clean
    rm -f "$root/usr/sbin/policy-rc.d" "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/tmp/* "$root"/var/tmp/*
    find "$root/var/log" -type f -delete
    find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$root"/usr/share/{man,info,locale,lintian}/*
    : >"$root/etc/resolv.conf"
    : >"$root/etc/hostname"
}

# debian_import TAG RECIPE MESSAGE [docker import options...]: the rootfs as image TAG.
debian_import() {
    local tag="$1" recipe="$2" message="$3"
    shift 3
    log "importing $tag"
    tar --numeric-owner -C "$root" -cf - . | docker import --message "$message" \
        --change "LABEL $RECIPE_LABEL=$recipe" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' "$@" - "$tag" >/dev/null
}
