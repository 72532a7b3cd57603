import { i18n } from './i18n'
import { sdk } from './sdk'
import { mainHostId, uiInterfaceId, uiPort } from './utils'

export const setInterfaces = sdk.setupInterfaces(async ({ effects }) => {
  const host = sdk.MultiHost.of(effects, mainHostId)
  const origin = await host.bindPort(uiPort, { protocol: 'http' })
  const ui = sdk.createInterface(effects, {
    name: i18n('Web interface'),
    id: uiInterfaceId,
    description: i18n(
      'The CRM in the browser, and its JSON API under /api/ for scripts',
    ),
    type: 'ui',
    masked: false,
    schemeOverride: null,
    username: null,
    path: '',
    query: {},
  })
  return [await origin.export([ui])]
})
