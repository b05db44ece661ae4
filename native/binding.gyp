{
  # The netarp native addon: TAP (/dev/net/tun), AF_PACKET and UDP file descriptors for
  # src/link/tap.ts, src/link/packet.ts and src/link/vxlan-native.ts, read on Node's own
  # event loop (uv_poll), UDP written in batches (sendmmsg).
  # Built by native/build.mjs at install time against Node's local headers.
  'targets': [
    {
      'target_name': 'netarp_native',
      'sources': ['netarp_native.cc'],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # C++ exceptions off: errors go back to JavaScript as pending exceptions.
      'defines': ['NAPI_VERSION=8', 'NAPI_DISABLE_CPP_EXCEPTIONS'],
      'cflags_cc': ['-std=c++17', '-Wall', '-Wextra'],
      'conditions': [
        ['OS!="linux"', { 'type': 'none' }],
      ],
    },
  ],
}
