import { setupManifest } from '@start9labs/start-sdk'
import { long, short } from './i18n'

// A private package: the fund builds and sideloads it, and it has no public
// home. start-cli needs these to be URLs, so they name a reserved domain that
// never resolves (RFC 2606 .invalid); put the fund's own git host here.
const repository = 'https://venture-crm.invalid/'

// s9pk.mk greps this file for the id key: no other line may contain it.
export const manifest = setupManifest({
  id: 'venture-crm',
  title: 'Venture CRM',
  license: 'proprietary',
  packageRepo: repository,
  upstreamRepo: repository,
  marketingUrl: repository,
  donationUrl: null,
  description: { short, long },
  volumes: ['main'],
  images: {
    main: {
      source: {
        // Built from this repository: the context is the repository root, two
        // levels up; both paths are relative to this package's folder.
        dockerBuild: { workdir: '../..', dockerfile: './Dockerfile' },
      },
      arch: ['x86_64', 'aarch64'],
      // Never emulate: the image is built natively for both architectures.
      emulateMissingAs: null,
    },
  },
  dependencies: {},
})
