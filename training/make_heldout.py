#!/usr/bin/python3
"""Builds a HELD-OUT detection evaluation set from sound sources that are not in the shared
data: game and education packages of Debian bookworm that the training pool never used.

    /usr/bin/python3 training/make_heldout.py [--seed 1234] [--out training/.cache/heldout]
                                              [--debs training/.cache/heldout-debs]

Downloads the packages named in PACKAGES with `apt-get download` (cached in --debs, skipped
when the .deb is there), extracts them with `dpkg-deb -x`, picks the sound files whose names
clearly name a class (a hand-written rule table per package below; first matching rule wins,
label None = skip), decodes them with ffmpeg to 16 kHz mono and builds, like make_eval.py:

  - every held-out alert clip (its loudest part, make_eval.event_snippet) inserted into 10 s
    of held-out street background at -6, 0 and +6 dB event-to-background ratio with a known
    onset: event_NNN_<label>_{m6,p0,p6}dB.wav;
  - every held-out non-alert clip as it is: background_NNN_<label>.wav;
  - 30 street mixtures of held-out background with 1-3 held-out non-alert sounds on top:
    street_NNN.wav (label none).

The background is made of the held-out ambience clips (engines, traffic, rain, wind, city
ambience) crossfaded to 10 s by make_eval.make_background, or a synthetic traffic/rain/wind
bed from a seed stream no other script uses (seed + 424242). No clip of ../shared/data is used:
the pool's clips are only compared with, and a clip that is a near-copy of one of them
(data.NearCopyFinder: one sound shipped by two packages) is skipped, as exact duplicates are.

Writes manifest.csv (`path,label,onset,offset`, seconds, paths relative to the manifest; read
by `vigie eval detect --manifest`) and sources.json (package, version, file, label, licence,
kind of every clip used, and what could not be found). Nothing here is ever committed: the
output and the packages live in training/.cache (git-ignored).
"""
import argparse
import fnmatch
import glob
import gzip
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import data  # noqa: E402
import make_eval  # noqa: E402
import synth  # noqa: E402

SR = data.SAMPLE_RATE_HZ
FILE_SECONDS = make_eval.FILE_SECONDS
EBRS_DB = make_eval.EBRS_DB
AUDIO_EXT = ('.wav', '.ogg', '.wv', '.flac', '.mp3', '.opus')
MIN_EVENT_S, MAX_EVENT_S = 0.1, 20.0
MAX_BACKGROUND_S = 30.0  # longer non-alert clips (ambience loops) are cut to their first 30 s
MAX_PER_PACKAGE_AND_LABEL = 12  # so that no single game dominates a class
N_STREET = 30

# The shared training/validation pool already used these (and any package of the same games):
# never take a sound from them.
FORBIDDEN = ['torcs', 'supertuxkart', 'micropolis', 'scorched3d', 'sumo', 'minetest', 'scratch',
             'supertux', 'dustracing2d', 'tuxpaint']

G = 'gunshot'
GL = 'glass_break'
CR = 'crash'
SC = 'scream'
EX = 'explosion'
TS = 'tire_skid'
AMB = 'ambience'  # third element of a rule: this non-alert clip may also be used as background bed

# Package -> what was found and the rules (regex on the path inside the package, including the
# member path inside an archive after "!"; case-insensitive; first match wins; None = skip).
# Sci-fi weapons (laser, plasma, gauss, rail gun, BFG, lightning gun, needler...) are skipped:
# they are not gunshots. Pain grunts ("hurt", "pain", "hit") are not screams; death cries of
# humans ("die", "death") are kept as screams (yells).
# Examined and not used: xmoto-data (a 0.1 s glass "tink" and engine grains), freeciv-data (its
# sounds are copies of Warzone 2100's), pyracerz (one start sound), freedoom (sounds in WAD
# lumps, not needed), granatier, bomberclone-data, ksirk, pingus-data, opencity-data (few cartoon
# effects); 0ad-data, redeclipse-data, widelands-data are too large (> 300 MB).
PACKAGES = {
    'ufoai-sound': dict(
        note='UFO: Alien Invasion sounds (base/0snd.pk3): realistic firearms (pistol, rifle, SMG, '
             'sniper, shotgun, machine guns), grenade/rocket explosions, 7 glass breaks, civilian '
             'screams and death cries, doors, footsteps, thunder, wind, a city ambience, a diesel '
             'engine; lasers/plasma/needlers skipped.',
        rules=[
            (r'weapons/(laser|plasma|ptl|psi|electro|bullet-(gauss|needler|heavyneedler|flechette|bolter|heavybolter))', None),
            (r'weapons/bullet-(pistol|pistol2|rifle|rifle-1x|rifle-3x|rifle-8x|smg|smg-1x|smg-5x|sniper|shotgun|shotgun-3x|shotgunmini|hmg-5x|chaingun-5x)\.ogg$', G),
            (r'geoscape/combat-gun\.ogg$', G),
            (r'weapons/explosion(-grenade|-rocket)?\.ogg$', EX),
            (r'geoscape/combat-(explosion|rocket-exp)\.ogg$', EX),
            (r'weapons/explosion-flashbang\.ogg$', EX),
            (r'misc/breakglass\d+\.ogg$', GL),
            (r'civilians/civfemscream\d+a\.ogg$', SC),
            (r'civilians/civ(fem|male)death\d+a\.ogg$', SC),
            (r'misc/break(wood|metal)\d+\.ogg$', 'other'),
            (r'impact/(bullet|knife|water)[\w-]*impact\.ogg$', 'other'),
            (r'doors/door\d-close\.ogg$', 'other'),
            (r'footsteps/(dirt|gravel|stone|tile|wood|sand)\d\.ogg$', 'footsteps'),
            (r'ambience/thunder\d\.ogg$', 'weather'),
            (r'ambience/arcticwind\.ogg$', 'weather', AMB),
            (r'ambience/city_abnd_ufoai_atm\.ogg$', 'street', AMB),
            (r'ambience/(fire|water\d*|waterfontain)\.ogg$', 'other'),
            (r'ugv/diesel-(idle|move)\.ogg$', 'traffic', AMB),
        ]),
    'openarena-data': dict(
        note='OpenArena (baseoa/pak0.pk3, missionpack/mp-pak0.pk3): machine gun, shotgun and '
             'minigun fire, rocket/grenade/mine/kamikaze explosions, player death cries, wind, '
             'footsteps, doors; plasma/rail/lightning/BFG/nail guns skipped.',
        rules=[
            (r'weapons/(plasma|railgun|lightning|bfg|nailgun)/', None),
            (r'weapons/machinegun/machgf\d b\.wav$'.replace(' ', ''), G),
            (r'weapons/shotgun/sshotf1b\.wav$', G),
            (r'weapons/vulcan/vulcanf\d b\.wav$'.replace(' ', ''), G),
            (r'weapons/rocket/rocklx1a\.wav$', EX),
            (r'weapons/proxmine/wstbexpl\.wav$', EX),
            (r'items/kam_explode(_far)?\.wav$', EX),
            (r'player/sarge/death\d\.wav$', SC),
            (r'weapons/machinegun/ric\d\.wav$', 'other'),
            (r'player/footsteps/(boot|step)\d\.wav$', 'footsteps'),
            (r'world/wind\d\.wav$', 'weather', AMB),
            (r'player/gibimp\d\.wav$', 'other'),
        ]),
    'openclonk-data': dict(
        note='OpenClonk (Sound.ocg, a packed c4group): blunderbuss shots, blasts, glass break and '
             'shatter, clonk screams, a plane crash, a firework blast, thunder, rain, wind, doors, '
             'material hits.',
        rules=[
            (r'Blunderbuss\.ocg/GunShoot\d\.ogg$', G),  # BulletShot*: bullet sounds, not the shot
            (r'Fire\.ocg/Blast\d\.wav$', EX),
            (r'Fire\.ocg/BlastFirework\.ogg$', 'fireworks'),
            (r'Glass\.ocg/Glass(Break|Shatter)\.ogg$', GL),
            (r'Glass\.ocg/GlassHit\d\.ogg$', 'other'),
            (r'Skin\.ocg/\w+\.ocg/Scream\d\.wav$', SC),
            (r'Plane\.ocg/PlaneCrash\.ogg$', CR),
            (r'Lightning\.ocg/Thunder\d\.ogg$', 'weather'),
            (r'Liquids\.ocg/StereoRain\.ogg$', 'weather', AMB),
            (r'Environment\.ocg/WindLoop\.ogg$', 'weather', AMB),
            (r'Structures\.ocg/DoorClose\d\.wav$', 'other'),
            (r'Hits\.ocg/Materials\.ocg/\w+\.ocg/(DullWood|Rock|DullMetal)Hit\d\.ogg$', 'other'),
        ]),
    'warzone2100-data': dict(
        note='Warzone 2100 (base.wz): machine guns, explosions, three screams; laser/plasma/'
             'gauss weapons skipped; construction sounds.',
        rules=[
            (r'audio/sfx/[\w/]*(lsr|plslsr|bemlsr|rotlsr|gaussgun|nxs)', None),
            (r'audio/sfx/[\w/]*(mgbar\d|mgheavy|asltmg)\.ogg$', G),
            (r'audio/sfx/[\w/]*(lrgexpl|smlexpl|atnkexpl|mpodexpl)\.ogg$', EX),
            (r'audio/sfx/[\w/]*scream\d?\.ogg$', SC),
            (r'audio/sfx/[\w/]*build\d\.ogg$', 'construction'),
            (r'audio/sfx/[\w/]*bldfall\.ogg$', 'other'),
        ]),
    'cube2-data': dict(
        note='Cube 2: Sauerbraten: pistol, rifle, shotgun and minigun shots, explosions, a door '
             'slam, thunder, a wind gust, sand footsteps; its "die" cries are low grunts, skipped.',
        rules=[
            (r'sounds/q009/(pistol|rifle|shotgun|minigun)\d?\.ogg$', G),
            (r'sounds/(q009/explosion|sfx/explode)\.ogg$', EX),
            (r'sounds/olpc/MichaelBierylo/sfx_DoorSlam\.wav$', 'other'),
            (r'sounds/0ad/thunder_\d+\.ogg$', 'weather'),
            (r'sounds/0ad/windgust_\d+\.ogg$', 'weather'),
            (r'sounds/0ad/fs_sand\d\.ogg$', 'footsteps'),
        ]),
    'wesnoth-1.16-data': dict(
        note='Battle for Wesnoth 1.16: a gunshot, the dwarvish thunderstick and dragonstick '
             '(black-powder guns), an explosion, human death cries (male, female, old).',
        rules=[
            (r'core/sounds/(gunshot\.wav|thunderstick\.ogg|dragonstick\.ogg)$', G),
            (r'core/sounds/explosion\.ogg$', EX),
            (r'core/sounds/human-(female-|old-)?die-\d\.ogg$', SC),
            (r'core/sounds/(horse-canter|bat-hit-\d|club|mace|fist)\.(ogg|wav)$', 'other'),
            (r'core/sounds/ambient/(birds\d|campfire|morning|night)\.ogg$', 'other'),
        ]),
    'freedroidrpg-data': dict(
        note='FreedroidRPG: one glass break, a blast, a footstep; its "screams" are 0.2 s '
             'grunts and its guns sci-fi (laser, plasma, pulse): skipped.',
        rules=[
            (r'effects/Glass_Break\.ogg$', GL),
            (r'effects/Blast_Sound_0\.ogg$', EX),
            (r'effects/tux_footstep\.ogg$', 'footsteps'),
        ]),
    'openttd-opensfx': dict(
        note='OpenSFX for OpenTTD (opensfx.cat): edited recordings from freesound with a licence '
             'per sound: road vehicle crash and big crash, an explosion, a modern car horn, bus '
             'and truck starts, a jackhammer, applause, wind, a level crossing.',
        rules=[
            (r'"(Crash|Big crash)"', CR),
            (r'"Explosion"', EX),
            (r'"Modern car horn"', 'car_horn'),
            (r'"(Truck/old bus start, pull away|Modern bus start|Old bus start)"', 'traffic', AMB),
            (r'"Truck/old bus start, pull away with horn"', 'car_horn'),
            (r'"Jackhammer"', 'construction'),
            (r'"Lumber mill: Chainsaw"', 'construction'),
            (r'"Applause"', 'crowd'),
            (r'"Wind"', 'weather', AMB),  # "Heavy wind" is the same sound
            (r'"Level crossing"', 'other'),
            (r'"Road vehicle breakdown"', 'other'),
            (r'"Lumber mill: Crashing tree"', 'other'),
        ]),
    'trophy-data': dict(
        note='Trophy (2D car action racing): a car crash, a tyre slide, a car horn, a dog, the '
             'engine, a gun shot.',
        rules=[
            (r'sounds/crash\.wav$', CR),
            (r'sounds/slide\.wav$', TS),
            (r'sounds/shot\.wav$', G),
            (r'sounds/carhorn\.wav$', 'car_horn'),
            (r'sounds/dog\.wav$', 'dog_bark'),
            (r'sounds/engine\.wav$', 'traffic'),
        ]),
    'stormbaancoureur-data': dict(
        note='Stormbaan Coureur (car stunt game): a Camaro engine loop, a detonation.',
        rules=[
            (r'sounds/detonationnorm_s16_le\.wav$', EX),
            (r'sounds/camaro_s16_le\.wav$', 'traffic', AMB),
        ]),
    'warmux-data': dict(
        note='Warmux: gun, M16 and shotgun shots, explosions and dynamite; slaps and box thuds '
             'as hard negatives; its death voices are cartoon words, skipped.',
        rules=[
            (r'weapons/(gun|m16|shotgun)\.ogg$', G),
            (r'weapons/(explosion\d|dynamite_exp)\.ogg$', EX),
            (r'weapons/(slap|baseball|anvil_collision)\.ogg$', 'other'),
            (r'misc/box_hitting_ground\.ogg$', 'other'),
            (r'misc/step\.ogg$', 'footsteps'),
        ]),
    'hedgewars-data': dict(
        note='Hedgewars: shotgun, minigun, explosion; hammer, whip crack, bat and punch hits as '
             'hard negatives, steps.',
        rules=[
            (r'Sounds/(shotgunfire|minigun)\.ogg$', G),  # gun.ogg: slow attack, unclear
            (r'Sounds/explosion\.ogg$', EX),
            (r'Sounds/(hammer|whipcrack|baseballbat|firepunch_hit|graveimpact)\.ogg$', 'other'),
            (r'Sounds/steps\.ogg$', 'footsteps'),
        ]),
    'btanks-data': dict(
        note='Battle Tanks: a shot, machine-gunner bullets, building and vehicle explosions, a '
             'kamikaze scream, a car klaxon, a city ambience, car engine, steps, a train.',
        rules=[
            (r'sounds/(shot|machinegunner-bullet)\.ogg$', G),
            (r'sounds/(building-explosion\d|vehicle-explosion2?|explosion)\.ogg$', EX),
            (r'sounds/kamikaze-scream\.ogg$', SC),
            (r'sounds/klaxon\.ogg$', 'car_horn'),
            (r'sounds/ambient/city\.ogg$', 'street', AMB),
            (r'sounds/(engine-car|engine-vehicle)\.ogg$', 'traffic'),
            (r'sounds/man-steps\.ogg$', 'footsteps'),
            (r'sounds/train\.ogg$', 'traffic'),
        ]),
    'lincity-ng-data': dict(
        note='LinCity-NG city ambience loops: light and heavy traffic, stadium crowds, '
             'monument construction, blacksmith; vaguely named loops (residential, market) '
             'skipped.',
        rules=[
            (r'sounds/Trafic(High|Low)\d\.wav$', 'traffic', AMB),
            (r'sounds/SportsCroud\d\.wav$', 'crowd'),
            (r'sounds/MonumentConstruction\d\.wav$', 'construction'),
            (r'sounds/Blacksmith\d\.wav$', 'construction'),
        ]),
    'teeworlds-data': dict(
        note='Teeworlds: cartoon pistol and shotgun, grenade explosions, hammer hits, '
             'footsteps; its laser and "skid" (feet) sounds skipped.',
        rules=[
            (r'audio/wp_(gun|shotty)_fire-\d+\.wv$', G),
            (r'audio/wp_flump_explo-\d+\.wv$', EX),
            (r'audio/wp_hammer_hit-\d+\.wv$', 'other'),
            (r'audio/foley_foot_(left|right)-0[12]\.wv$', 'footsteps'),
        ]),
    'trigger-rally-data': dict(
        note='Trigger Rally (data.zip): a collision bang, the rally car engine, gravel, wind; '
             'no tyre skid.',
        rules=[
            (r'sounds/bang\.wav$', CR),
            (r'sounds/engine\.wav$', 'traffic'),
            (r'sounds/wind\.wav$', 'weather'),
        ]),
    'flare-game': dict(
        note='Flare (fantasy RPG): male and female death cries, rain, wind, door, steps.',
        rules=[
            (r'soundfx/(male|female)_die\.ogg$', SC),
            (r'environment/rain\.ogg$', 'weather', AMB),
            (r'environment/wind_loop\.ogg$', 'weather', AMB),
            (r'soundfx/(door_open|wood_open)\.ogg$', 'other'),
            (r'steps/step_(leather|echo)\d\.ogg$', 'footsteps'),
        ]),
    'gcompris-qt-data': dict(
        note='GCompris (Qt resource files): dog barks, a car engine, rain, applause, falling '
             'objects, a door, a train slowing down.',
        rules=[
            (r'LRBark_\d_LA_cut\.ogg$', 'dog_bark'),
            (r'explore_farm_animals/resource/animals/dog\.ogg$', 'dog_bark'),
            (r'LRStartAndStopCarEngine1LACut\.ogg$', 'traffic'),
            (r'LRRain_in_garden_01_LA_cut\.ogg$', 'weather', AMB),
            (r'LRApplauses_1_LA_cut\.ogg$', 'crowd'),
            (r'LRObject_falling_0\d_LA\.ogg$', 'other'),
            (r'LRDoor_Open_2_LA\.ogg$', 'other'),
            (r'LRTrain_slowing_down_01_LA_cut\.ogg$', 'traffic'),
        ]),
}


# ---- packages --------------------------------------------------------------------------------

def fetch(pkg, debs):
    """The package's .deb in `debs` (apt-get download when absent) and its extracted tree."""
    os.makedirs(debs, exist_ok=True)
    found = sorted(glob.glob(os.path.join(debs, f'{pkg}_*.deb')))
    if not found:
        subprocess.run(['apt-get', 'download', '-q', pkg], cwd=debs, check=True,
                       stdout=subprocess.DEVNULL)
        found = sorted(glob.glob(os.path.join(debs, f'{pkg}_*.deb')))
    deb = found[-1]
    root = os.path.join(debs, 'x', pkg)
    marker = os.path.join(root, '.extracted')
    if not (os.path.exists(marker) and open(marker).read() == os.path.basename(deb)):
        os.makedirs(root, exist_ok=True)
        subprocess.run(['nice', 'dpkg-deb', '-x', deb, root], check=True)
        with open(marker, 'w') as f:
            f.write(os.path.basename(deb))
    version = subprocess.run(['dpkg-deb', '-f', deb, 'Version'], check=True, capture_output=True,
                             text=True).stdout.strip()
    return deb, root, version


def _unscramble(h):
    h = bytearray(h)
    for i in range(0, len(h) - 2, 3):
        h[i], h[i + 2] = h[i + 2], h[i]
    return bytes(x ^ 0xED for x in h)


def _c4group(blob):
    """Members of an OpenClonk c4group (.ocg/.ocd): gzip with a changed magic, a scrambled
    204-byte header, 316-byte entry records, nested groups inline."""
    b = bytearray(blob)
    b[0], b[1] = 0x1F, 0x8B
    d = gzip.decompress(bytes(b))
    out = []

    def walk(base, prefix):
        h = _unscramble(d[base:base + 204])
        if not h.startswith(b'RedWolf Design GrpFolder'):
            return
        n = struct.unpack_from('<i', h, 36)[0]
        data0 = base + 204 + 316 * n
        for k in range(n):
            e = d[base + 204 + 316 * k:base + 204 + 316 * (k + 1)]
            name = e[:260].split(b'\0')[0].decode('latin1')
            _packed, child, size, _r1, off = struct.unpack_from('<iiiii', e, 260)
            if child:
                walk(data0 + off, f'{prefix}{name}/')
            else:
                out.append((prefix + name, d[data0 + off:data0 + off + size]))
    walk(0, '')
    return out


def _opensfx_cat(blob):
    """OpenTTD .cat: (offset, size) table; each entry = length-prefixed name, then a RIFF WAV."""
    first = struct.unpack_from('<I', blob, 0)[0] & 0x7FFFFFFF
    out = []
    for i in range(first // 8):
        off, size = struct.unpack_from('<II', blob, 8 * i)
        off &= 0x7FFFFFFF
        ln = blob[off]
        name = blob[off + 1:off + 1 + ln].rstrip(b'\0').decode('latin1')
        wav = blob[off + 1 + ln:off + size]
        if wav[:4] == b'RIFF':
            out.append((name, wav))
    return out


def _xbi3(blob):
    """X-Moto xmoto.bin: 'XBI3', a length-prefixed checksum, then entries of
    (length-prefixed name, length-prefixed checksum, uint32 size, data)."""
    p = 4
    p += 1 + blob[p]
    out = []
    while p < len(blob):
        ln = blob[p]
        name = blob[p + 1:p + 1 + ln].decode('latin1')
        p += 1 + ln
        p += 1 + blob[p]
        size = struct.unpack_from('<I', blob, p)[0]
        p += 4
        out.append((name, blob[p:p + size]))
        p += size
    return out


def _qt_rcc(blob):
    """Qt resource file: tree of (name offset, flags, child count/first child or data offset);
    names are UTF-16BE with a 2-byte length and 4-byte hash; data has a 4-byte size (zlib-
    compressed entries start with a 4-byte uncompressed size). Audio is stored uncompressed."""
    import zlib
    if blob[:4] != b'qres':
        return []
    version, tree, data_off, names = struct.unpack_from('>IIII', blob, 4)
    node_size = 14 if version == 1 else 22
    out = []

    def name_at(off):
        ln = struct.unpack_from('>H', blob, names + off)[0]
        return blob[names + off + 6:names + off + 6 + 2 * ln].decode('utf-16-be')

    def walk(node, prefix, depth=0):
        base = tree + node * node_size
        name_off, flags = struct.unpack_from('>IH', blob, base)
        name = name_at(name_off) if node else ''
        if flags & 0x02:  # directory
            count, first = struct.unpack_from('>II', blob, base + 6)
            for c in range(first, first + count):
                walk(c, f'{prefix}{name}/' if node else '', depth + 1)
        else:
            off = struct.unpack_from('>I', blob, base + 10)[0]
            size = struct.unpack_from('>I', blob, data_off + off)[0]
            raw = blob[data_off + off + 4:data_off + off + 4 + size]
            if flags & 0x01:
                raw = zlib.decompress(raw[4:])
            elif flags & 0x04:
                return  # zstd: not needed for audio
            out.append((prefix + name, raw))
    walk(0, '')
    return out


def members(root):
    """(path inside the package, loader) for every audio file, also inside archives; paths of
    archive members are '<archive path>!<member path>'."""
    for dirpath, _dirs, files in os.walk(root):
        for fn in sorted(files):
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, root)
            low = fn.lower()
            if os.path.islink(full):
                continue
            if low.endswith(AUDIO_EXT):
                yield rel, (lambda p=full: open(p, 'rb').read())
            elif low.endswith(('.pk3', '.wz')) or (low.endswith('.zip') and 'trigger-rally' in rel):
                with zipfile.ZipFile(full) as z:
                    for info in sorted(z.infolist(), key=lambda i: i.filename):
                        if info.filename.lower().endswith(AUDIO_EXT):
                            yield f'{rel}!{info.filename}', (lambda p=full, n=info.filename: zipfile.ZipFile(p).read(n))
            elif low.endswith(('.ocg', '.ocd')) and 'openclonk' in rel and fn == 'Sound.ocg':
                for name, blob in _c4group(open(full, 'rb').read()):
                    if name.lower().endswith(AUDIO_EXT):
                        yield f'{rel}!{name}', (lambda b=blob: b)
            elif low.endswith('.cat') and 'opensfx' in rel:
                for name, blob in _opensfx_cat(open(full, 'rb').read()):
                    yield f'{rel}!{name}', (lambda b=blob: b)
            elif fn == 'xmoto.bin':
                for name, blob in _xbi3(open(full, 'rb').read()):
                    if name.lower().endswith(AUDIO_EXT):
                        yield f'{rel}!{name}', (lambda b=blob: b)
            elif low.endswith('.rcc'):
                for name, blob in _qt_rcc(open(full, 'rb').read()):
                    if name.lower().endswith(AUDIO_EXT):
                        yield f'{rel}!{name}', (lambda b=blob: b)


def decode(blob):
    """Any audio file's bytes -> float32 mono at 16 kHz (ffmpeg, s16 like data.read_wav)."""
    out = subprocess.run(['nice', 'ffmpeg', '-nostdin', '-v', 'error', '-i', 'pipe:0', '-ac', '1',
                          '-ar', str(SR), '-f', 's16le', '-'],
                         input=blob, capture_output=True, check=True).stdout
    x = np.frombuffer(out, dtype='<i2').astype(np.float32) / 32768.0
    # Some game files carry a large DC offset (up to 0.23 of full scale): it is no sound, and
    # it would dominate RMS levels and the ambience beds. Remove it.
    return (x - x.mean()).astype(np.float32) if len(x) else x


# ---- licences --------------------------------------------------------------------------------

def _freeform_licences(text):
    """Licence names in a free-form (non machine-readable) copyright text."""
    found = []

    def add(name):
        if name not in found:
            found.append(name)
    for m in re.finditer(r'GNU (Lesser |Library )?General Public License', text):
        tail = text[m.end():m.end() + 300]
        v = re.search(r'version (\d)', tail)
        name = ('LGPL' if m.group(1) else 'GPL') + (f'-{v.group(1)}' if v else '')
        if re.search(r'any later version|or later', tail):
            name += '+'
        add(name)
    for pat, name in [(r'\bISC license', 'ISC'), (r'\bMIT license', 'MIT'),
                      (r'Creative Commons Attribution[- ]Share[- ]?Alike (\d\.\d)', 'CC-BY-SA-{}'),
                      (r'Creative Commons Attribution (\d\.\d)', 'CC-BY-{}'),
                      (r'\bCC0\b', 'CC0'), (r'public domain', 'public-domain')]:
        for m in re.finditer(pat, text, re.I):
            add(name.format(*m.groups()))
    return found


def read_copyright(root, pkg):
    """(summary, all License: fields, DEP-5 stanzas [(patterns, licence)]) from the package's
    usr/share/doc/<pkg>/copyright: its License: fields, or licence names in a free-form text."""
    path = os.path.join(root, 'usr', 'share', 'doc', pkg, 'copyright')
    if not os.path.exists(path):
        return 'no copyright file in the package', [], []
    text = open(path, encoding='utf-8', errors='replace').read()
    stanzas, names = [], []
    for para in re.split(r'\n\s*\n', text):
        files = re.search(r'^Files:\s*((?:.*\n?)(?:[ \t]+.*\n?)*)', para, re.M)
        lic = re.search(r'^License:[ \t]*(.*)$', para, re.M)
        if lic and lic.group(1).strip():
            name = lic.group(1).strip()
            if name not in names:
                names.append(name)
            if files:
                stanzas.append((files.group(1).split(), name))
    if not names:
        return '; '.join(_freeform_licences(text)) or 'not stated', [], []
    # Summary: licence families of the License: fields, without build-system and font licences
    # (autoconf "GAP", font licences) that cannot apply to sounds.
    summary = []
    for name in names:
        for tok in re.split(r' and | or |, ', name):
            tok = re.sub(r'-with-.*| with .*', '', tok.strip())
            if tok and not re.search(r'^GAP|Font|Bitstream|Arev|DejaVu|OFL|^SIL|^fonts$|Philo', tok) \
                    and tok not in summary:
                summary.append(tok)
    return '; '.join(summary), names, stanzas


def file_licence(stanzas, member):
    """Best guess of one file's licence from DEP-5 Files: patterns (the last match wins), tried
    on every tail of the member's path (archive names dropped). None when only '*' matches."""
    archives = ('.pk3', '.wz', '.zip', '.cat', '.rcc', '.bin', '.ocg', '.ocd')
    parts = [p for p in re.split(r'[/!]', member) if not p.lower().endswith(archives)]
    tails = ['/'.join(parts[i:]) for i in range(len(parts))]
    best = None
    for patterns, name in stanzas:
        for pat in patterns:
            if pat != '*' and any(fnmatch.fnmatchcase(t, pat) for t in tails):
                best = name
    return best



# ---- collecting the clips --------------------------------------------------------------------

def _pcm_hash(x):
    return hashlib.sha256(np.round(np.asarray(x) * 32768).astype('<i2').tobytes()).hexdigest()


def _evenly(items, k):
    """At most k items spread evenly over the (sorted) list: deterministic, seed-independent."""
    if len(items) <= k:
        return items
    idx = sorted(set(int(round(i)) for i in np.linspace(0, len(items) - 1, k)))
    return [items[i] for i in idx]


def collect(debs):
    """Decode every clip the rules pick. Returns (clips, packages, skipped) where clips are
    dicts with the audio in 'x'."""
    clips, info, skipped = [], {}, []
    seen = {}
    # Packages share sounds (one engine sample is in two games of the pool): a held-out clip
    # that is a near-copy of a pool clip is no held-out sound. The pool is only compared with.
    pool_rows = data.load_manifest(near_copies=False)
    pool_clips = data.load_pool(pool_rows)
    pool = data.NearCopyFinder([(f"{r['source']}:{os.path.basename(r['origin_path'])}", pool_clips[r['path']]) for r in pool_rows])
    for pkg, spec in PACKAGES.items():
        if any(pkg.startswith(f) for f in FORBIDDEN):
            raise SystemExit(f'{pkg}: a package of the training pool, not held out')
        deb, root, version = fetch(pkg, debs)
        summary, fields, stanzas = read_copyright(root, pkg)
        info[pkg] = {'version': version, 'deb': os.path.basename(deb), 'licence': summary,
                     'licence_fields': fields,
                     'found': spec['note'], 'clips': {}}
        matched = {}
        for path, load in members(root):
            for rule in spec['rules']:
                if re.search(rule[0], path, re.I):
                    if rule[1] is not None:
                        matched.setdefault(rule[1], []).append((path, load, rule[2:] == (AMB,)))
                    break
        for label in sorted(matched):
            alert = label in data.ALERT_LABELS
            good = []
            for path, load, amb in matched[label]:
                try:
                    x = decode(load())
                except subprocess.CalledProcessError as e:
                    skipped.append({'package': pkg, 'file': path, 'why': f'ffmpeg failed: {e.stderr.decode(errors="replace")[:100]}'})
                    continue
                dur = len(x) / SR
                peak = float(np.abs(x).max()) if len(x) else 0.0
                why = None
                if dur < MIN_EVENT_S:
                    why = f'too short ({dur:.2f} s)'
                elif alert and dur > MAX_EVENT_S:
                    why = f'too long for an event ({dur:.1f} s)'
                elif peak < 1e-3:
                    why = 'silent'
                h = _pcm_hash(x)
                if why is None and h in seen:
                    why = f'exact duplicate of {seen[h]}'
                if why is None:
                    copied = pool.find(x)
                    if copied:
                        why = f'near-copy of the training pool\'s {copied[0]} (correlation {copied[1]:.2f})'
                if why:
                    skipped.append({'package': pkg, 'file': path, 'label': label, 'why': why})
                    continue
                seen[h] = f'{pkg}:{path}'
                if not alert and dur > MAX_BACKGROUND_S:
                    x = x[:int(MAX_BACKGROUND_S * SR)]
                lic = file_licence(stanzas, path)
                m = re.search(r'License: (.+?)\.(?=\s|$)', path)
                if m:  # OpenSFX: each sound's description names its licence
                    lic = m.group(1)
                good.append({'package': pkg, 'version': version, 'file': path, 'label': label,
                             'licence': summary, 'licence_of_file_guess': lic, 'kind': 'game_effect',
                             'duration_s': round(dur, 3), 'peak_dbfs': round(20 * np.log10(peak + 1e-12), 1),
                             'sha256_pcm16k': h, 'ambience': amb, 'x': x})
            kept = _evenly(good, MAX_PER_PACKAGE_AND_LABEL)
            kept_ids = {id(c) for c in kept}  # by identity: the dicts hold audio arrays
            for c in good:
                if id(c) not in kept_ids:
                    skipped.append({'package': pkg, 'file': c['file'], 'label': label,
                                    'why': f'over {MAX_PER_PACKAGE_AND_LABEL} clips of the class in this package'})
            info[pkg]['clips'][label] = len(kept)
            clips.extend(kept)
        if pkg == 'openttd-opensfx':
            for c in clips:
                if c['package'] == pkg and 'Original "' in c['file']:
                    c['note'] = 'edited from a named freesound recording (see the file name)'
    return clips, info, skipped


# ---- building the set ------------------------------------------------------------------------

def level_stats(x):
    x = np.asarray(x, dtype=np.float64)
    peak = float(np.abs(x).max()) if len(x) else 0.0
    return {'peak_dbfs': 20 * np.log10(peak + 1e-12), 'rms_dbfs': 20 * np.log10(synth.rms(x)),
            'full_scale_fraction': float(np.mean(np.abs(x) >= 0.999)) if len(x) else 0.0}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--seed', type=int, default=1234)
    p.add_argument('--out', default=os.path.join(data.CACHE_DIR, 'heldout'))
    p.add_argument('--debs', default=os.path.join(data.CACHE_DIR, 'heldout-debs'))
    args = p.parse_args()
    rng = np.random.default_rng(args.seed + 424242)  # a stream no other script uses
    clips, info, skipped = collect(args.debs)
    order = {l: i for i, l in enumerate(data.LABELS)}
    pkg_order = {k: i for i, k in enumerate(PACKAGES)}
    clips.sort(key=lambda c: (order.get(c['label'], 99), pkg_order[c['package']], c['file']))
    events = [c for c in clips if c['label'] in data.ALERT_LABELS]
    others = [c for c in clips if c['label'] not in data.ALERT_LABELS]
    ambience = [c['x'] for c in others if c['ambience'] and len(c['x']) >= make_eval.AMBIENCE_MIN_S * SR]
    beds = (synth.traffic_bed, synth.rain_bed, synth.wind_bed)

    os.makedirs(args.out, exist_ok=True)
    for old in glob.glob(os.path.join(args.out, '*.wav')):
        if re.match(r'(event|background|street)_\d{3}', os.path.basename(old)):
            os.remove(old)
    n = int(FILE_SECONDS * SR)
    manifest, written = [], {}

    def write(name, x, label):
        data.write_wav(os.path.join(args.out, name), x)
        written[name] = (label, len(x) / SR, level_stats(x))

    for i, c in enumerate(events):
        ev, on, off = make_eval.event_snippet(c['x'])
        ev = ev.astype(np.float64)
        c['outputs'] = []
        for ebr in EBRS_DB:
            bg = make_eval.make_background(ambience, rng, n, beds=beds).astype(np.float64)
            mix, start = make_eval.insert_event(bg, ev, ebr, rng)
            name = make_eval.event_file_name(i, c['label'], ebr)
            write(name, mix, c['label'])
            manifest.append((name, c['label'], round((start + on) / SR, 3), round(min(n, start + off) / SR, 3)))
            c['outputs'].append(name)

    # background-only: every held-out non-alert clip as it is (only scaled down if it would clip)
    for i, c in enumerate(others):
        x = c['x'].astype(np.float64)
        peak = np.abs(x).max()
        if peak > 0.99:
            x = x * (0.99 / peak)
        name = f'background_{i:03d}_{c["label"]}.wav'
        write(name, x, c['label'])
        manifest.append((name, c['label'], '', ''))
        c['outputs'] = [name]
    # 10 s street mixtures: held-out background with 1-3 held-out non-alert sounds on top
    sprinkles = [c for c in others if len(c['x']) > SR // 2]
    sprinkle_x = [c['x'].astype(np.float64) for c in sprinkles]
    streets = []
    for i in range(N_STREET):
        bg = make_eval.make_background(ambience, rng, n, beds=beds).astype(np.float64)
        picked = make_eval.sprinkle(bg, sprinkle_x, rng)
        used = [f'{sprinkles[k]["package"]}:{sprinkles[k]["file"]}' for k in picked]
        name = f'street_{i:03d}.wav'
        write(name, bg, 'none')
        manifest.append((name, 'none', '', ''))
        streets.append({'file': name, 'sounds': used})

    make_eval.write_manifest(os.path.join(args.out, 'manifest.csv'), manifest)

    counts = {}
    for c in clips:
        counts[c['label']] = counts.get(c['label'], 0) + 1
    shortfalls = [f'{l}: {counts.get(l, 0)} clip{"" if counts.get(l, 0) == 1 else "s"} (aim: 20)'
                  for l in data.ALERT_LABELS if counts.get(l, 0) < 20]
    checks = {'silent_files': sorted(k for k, v in written.items() if v[2]['peak_dbfs'] < -50 or v[2]['rms_dbfs'] < -75),
              'clipped_files': sorted(k for k, v in written.items() if v[2]['full_scale_fraction'] > 0.001 or v[2]['peak_dbfs'] > -0.05)}
    for c in clips:
        del c['x']
    report = {
        'what': 'Held-out detection evaluation set: game and education sound effects from Debian '
                'bookworm packages that the training pool (shared data) never used.',
        'seed': args.seed, 'background_seed_stream': args.seed + 424242,
        'forbidden_packages': FORBIDDEN,
        'packages': info, 'clip_counts': counts,
        'shortfalls': shortfalls or ['none: every alert class has at least 20 clips'],
        'clips': clips, 'street_mixtures': streets, 'skipped': skipped, 'checks': checks,
    }
    with open(os.path.join(args.out, 'sources.json'), 'w') as f:
        json.dump(report, f, indent=1, ensure_ascii=False)

    # ---- summary
    print('packages used:')
    for pkg, v in info.items():
        if v['clips']:
            print(f'  {pkg} {v["version"]}: {v["licence"]}')
    print('clips per label (alert = event, others = background):')
    for label in data.LABELS:
        if label in counts or label in data.ALERT_LABELS:
            per_pkg = ', '.join(f'{k}:{v["clips"][label]}' for k, v in info.items() if label in v['clips'])
            print(f'  {label:12s} {counts.get(label, 0):3d}  ({per_pkg})')
    print('could not find enough: ' + ('; '.join(shortfalls) if shortfalls else 'nothing'))
    print(f'ambience beds: {len(ambience)} held-out clips (+ synthetic traffic/rain/wind beds)')
    by = {}
    for name, (label, dur, st) in written.items():
        kind = name.split('_')[0]
        by.setdefault((kind, label), []).append((dur, st['peak_dbfs'], st['rms_dbfs']))
    print('files written (kind, label: count, duration min/median/max s, peak dBFS min/max, rms dBFS median):')
    for (kind, label), v in sorted(by.items()):
        d = np.array(v)
        print(f'  {kind:10s} {label:12s} {len(v):4d}  {d[:, 0].min():5.2f}/{np.median(d[:, 0]):5.2f}/{d[:, 0].max():5.2f}  '
              f'{d[:, 1].min():6.1f}/{d[:, 1].max():5.1f}  {np.median(d[:, 2]):6.1f}')
    print(f'silent files: {len(checks["silent_files"])}, clipped files: {len(checks["clipped_files"])}')
    n_events = sum(1 for m in manifest if m[2] != '')
    print(f'{len(manifest)} files ({n_events} event mixtures from {len(events)} held-out events, '
          f'{len(manifest) - n_events} background-only) in {args.out}; sources in sources.json')


if __name__ == '__main__':
    main()
