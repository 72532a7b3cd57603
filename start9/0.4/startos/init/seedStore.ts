import { storeJson } from '../fileModels/store.json'
import { sdk } from '../sdk'

// Every key of store.json has a default, so merging nothing writes a complete
// file on install and fills in keys a newer version added on update.
export const seedStore = sdk.setupOnInit(async (effects) => {
  await storeJson.merge(effects, {})
})
