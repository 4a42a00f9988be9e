"""The default Vigie classifier: a log-mel front end inside the network, then a small CNN.

The front end is part of the exported ONNX graph so that training and serving cannot drift.
Two implementations of the same STFT exist: `torch.stft` (fast, used while training) and a
conv1d with fixed DFT kernels (used for export, because it maps onto plain ONNX Conv at
any opset). `check_front_end_match` proves they agree.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SAMPLE_RATE_HZ = 16000
WINDOW_SAMPLES = 16000
N_FFT = 512
HOP = 160
N_MELS = 64
FMIN_HZ = 50.0
FMAX_HZ = 8000.0
LOG_FLOOR = 1e-6
# STFT frames in one window (no centre padding).
FRAMES = 1 + (WINDOW_SAMPLES - N_FFT) // HOP


def hz_to_mel(f):
    return 2595.0 * math.log10(1.0 + f / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(n_fft=N_FFT, n_mels=N_MELS, sr=SAMPLE_RATE_HZ, fmin=FMIN_HZ, fmax=FMAX_HZ):
    """Triangular HTK-style mel filters, [n_fft//2+1, n_mels], each band normalised to unit area."""
    n_bins = n_fft // 2 + 1
    bin_hz = torch.arange(n_bins, dtype=torch.float64) * sr / n_fft
    mels = torch.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2, dtype=torch.float64)
    edges = torch.tensor([mel_to_hz(float(m)) for m in mels], dtype=torch.float64)
    fb = torch.zeros(n_bins, n_mels, dtype=torch.float64)
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (bin_hz - lo) / (mid - lo)
        down = (hi - bin_hz) / (hi - mid)
        fb[:, m] = torch.clamp(torch.minimum(up, down), min=0.0)
        area = fb[:, m].sum()
        if area > 0:
            fb[:, m] /= area
    return fb.float()


class LogMel(nn.Module):
    """waveform [B, samples] in [-1, 1] -> log-mel [B, 1, frames, mels]. No centre padding."""

    def __init__(self):
        super().__init__()
        window = torch.hann_window(N_FFT, periodic=True, dtype=torch.float64)
        n = torch.arange(N_FFT, dtype=torch.float64)
        k = torch.arange(N_FFT // 2 + 1, dtype=torch.float64)
        angle = 2.0 * math.pi * k[:, None] * n[None, :] / N_FFT
        real = (torch.cos(angle) * window[None, :]).float()
        imag = (-torch.sin(angle) * window[None, :]).float()
        # [2*bins, 1, n_fft]: real kernels then imaginary kernels.
        self.register_buffer('dft_kernels', torch.cat([real, imag], 0).unsqueeze(1))
        self.register_buffer('window', window.float())
        self.register_buffer('mel_fb', mel_filterbank())
        self.use_fft = True

    def power_spectrum(self, wave):
        if self.use_fft:
            spec = torch.stft(wave, N_FFT, hop_length=HOP, win_length=N_FFT, window=self.window,
                              center=False, return_complex=True)
            return (spec.real ** 2 + spec.imag ** 2).transpose(1, 2)  # [B, frames, bins]
        out = F.conv1d(wave.unsqueeze(1), self.dft_kernels, stride=HOP)  # [B, 2*bins, frames]
        bins = N_FFT // 2 + 1
        re = out[:, :bins, :]
        im = out[:, bins:, :]
        return (re * re + im * im).transpose(1, 2)

    def mel_power(self, wave):
        return torch.matmul(self.power_spectrum(wave), self.mel_fb)  # [B, frames, mels]

    @staticmethod
    def log(mel):
        """Mel power [B, frames, mels] -> log-mel image [B, 1, frames, mels]."""
        return torch.log(mel + LOG_FLOOR).unsqueeze(1)

    def forward(self, wave):
        return self.log(self.mel_power(wave))


class PCEN(nn.Module):
    """Per-channel energy normalisation of mel power [B, frames, mels] -> [B, 1, frames, mels]:
    each band divided by its own smoothed past (time constant `smooth_s`), then root-compressed,
    so a steady street bed flattens and onsets stand out whatever the level (Wang et al. 2017;
    Lostanlen et al. 2019). The smoother is a causal FIR over the window (edge-padded), which
    exports as plain ONNX Pad and Conv."""

    # Defaults of the --pcen option, also written in the model card.
    PARAMS = {'smooth_s': 0.4, 'alpha': 0.98, 'delta': 2.0, 'r': 0.5}

    def __init__(self, frames=FRAMES, smooth_s=PARAMS['smooth_s'], alpha=PARAMS['alpha'], delta=PARAMS['delta'], r=PARAMS['r'], eps=1e-6):
        super().__init__()
        s = 1.0 - math.exp(-HOP / (smooth_s * SAMPLE_RATE_HZ))
        k = torch.tensor([s * (1.0 - s) ** i for i in range(frames)], dtype=torch.float64)
        k = (k / k.sum()).flip(0)  # conv1d correlates: the newest frame last
        self.register_buffer('kernel', k.float().view(1, 1, frames).repeat(N_MELS, 1, 1))
        self.frames, self.alpha, self.delta, self.r, self.eps = frames, alpha, delta, r, eps

    def forward(self, mel):
        e = mel.transpose(1, 2)  # [B, mels, frames]
        past = F.conv1d(F.pad(e, (self.frames - 1, 0), mode='replicate'), self.kernel, groups=N_MELS)
        out = (e / (self.eps + past) ** self.alpha + self.delta) ** self.r - self.delta ** self.r
        return out.transpose(1, 2).unsqueeze(1)


def conv_block(c_in, c_out, double=True):
    layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
    if double:
        layers += [nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


# Masks of the --spec-augment option, also written in the model card.
SPEC_AUGMENT = {'freq_masks': 2, 'freq_width': 8, 'time_masks': 1, 'time_width': 8}


def spec_augment(logmel, freq_masks=SPEC_AUGMENT['freq_masks'], freq_width=SPEC_AUGMENT['freq_width'],
                 time_masks=SPEC_AUGMENT['time_masks'], time_width=SPEC_AUGMENT['time_width']):
    """SpecAugment-style masking of a batch of log-mel images [B, 1, frames, mels]: bands and
    short time spans (up to `time_width` frames, 80 ms, so a gunshot is rarely erased whole)
    set to each image's mean. Random from torch's global generator (seeded by the trainer)."""
    b, _, frames, mels = logmel.shape
    keep = torch.ones(b, 1, frames, mels, dtype=torch.bool)
    for count, width, size, axis in ((freq_masks, freq_width, mels, 3), (time_masks, time_width, frames, 2)):
        idx = torch.arange(size).view(*[size if d == axis else 1 for d in range(4)])
        for _ in range(count):
            w = torch.randint(0, width + 1, (b, 1, 1, 1))
            start = (torch.rand(b, 1, 1, 1) * (size - w + 1).float()).floor().long()
            keep &= ~((idx >= start) & (idx < start + w))
    return torch.where(keep, logmel, logmel.mean(dim=(2, 3), keepdim=True))


DEFAULT_WIDTHS = (16, 32, 64, 128)


class StreetNet(nn.Module):
    """Log-mel CNN. `forward` returns logits; `ProbabilityModel` wraps it with softmax for export."""

    def __init__(self, n_classes, widths=DEFAULT_WIDTHS, dropout=0.3, spec_augment=False, pcen=False):
        super().__init__()
        # Training only: masking never reaches the exported (eval-mode) graph.
        self.spec_augment = spec_augment
        self.front = LogMel()
        # Optional second input plane: PCEN of the same mel power.
        self.pcen = PCEN() if pcen else None
        planes = 2 if pcen else 1
        # Fixed per-model input scaling learned by BatchNorm over the whole log-mel image.
        self.input_norm = nn.BatchNorm2d(planes)
        blocks = []
        c_in = planes
        for i, w in enumerate(widths):
            # the first block runs at full resolution: one conv there keeps training affordable
            blocks.append(conv_block(c_in, w, double=i > 0))
            c_in = w
        self.blocks = nn.ModuleList(blocks)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * c_in, n_classes)

    def features(self, logmel):
        # 20 ms x 2-band cells: a 1 s window needs no finer grid, and it makes training 3x cheaper
        x = F.avg_pool2d(self.input_norm(logmel), 2)
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i < len(self.blocks) - 1:
                x = F.avg_pool2d(x, 2)
        x = x.mean(dim=3)  # over mel bands -> [B, C, frames]
        # mean + max over time: max keeps short events visible in a 1 s window
        return torch.cat([x.mean(dim=2), x.amax(dim=2)], dim=1)

    def forward(self, wave):
        if self.pcen is not None:
            mel = self.front.mel_power(wave)
            logmel = torch.cat([self.front.log(mel), self.pcen(mel)], dim=1)
        else:
            logmel = self.front(wave)
        if self.training and self.spec_augment:
            logmel = spec_augment(logmel)
        return self.head(self.dropout(self.features(logmel)))


class ProbabilityModel(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, waveform):
        return torch.softmax(self.net(waveform), dim=1)


def count_parameters(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def check_front_end_match(front, seed=0):
    """Max abs difference between the FFT and the conv1d front ends on random input."""
    g = torch.Generator().manual_seed(seed)
    wave = (torch.rand(3, WINDOW_SAMPLES, generator=g) * 2 - 1) * 0.5
    wave[1] *= 1e-3  # quiet input exercises the log floor
    was = front.use_fft
    with torch.no_grad():
        front.use_fft = True
        a = front(wave)
        front.use_fft = False
        b = front(wave)
    front.use_fft = was
    return float((a - b).abs().max())
