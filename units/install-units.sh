#!/bin/sh
# meson install step for units/. Arguments: SRC-DIR BUNDLE-DIR ETC-BUNDLE-DIR FSTAB-BUNDLES
#  - copies SRC-DIR/{targets,services} into $DESTDIR/BUNDLE-DIR, keeping symlinks as symlinks
#    (relationship links are relative; supervise links point into /run);
#  - creates the empty targets fstab-mounts and fstab-swaps in $DESTDIR/ETC-BUNDLE-DIR unless
#    they exist (local-fs, swap and unmount link to them by absolute path; fstab-bundles fills
#    them from /etc/fstab).
set -eu
src=$1 dst=${DESTDIR:-}$2 etc=${DESTDIR:-}$3
mkdir -p "$dst"
for d in targets services; do
    rm -rf "${dst:?}/$d.new"
    cp -R -P "$src/$d" "$dst/$d.new"
    rm -rf "${dst:?}/$d"
    mv "$dst/$d.new" "$dst/$d"
done
[ -d "$etc/targets/fstab-mounts" ] && [ -d "$etc/targets/fstab-swaps" ] && exit 0
exec "$4" --fstab /dev/null --root "$etc" --units "$2"
