import { checkAnthropicKey, checkModelName } from '../env'
import { storeJson } from '../fileModels/store.json'
import { i18n } from '../i18n'
import { sdk } from '../sdk'

const { InputSpec, Value } = sdk

export const inputSpec = InputSpec.of({
  clear: Value.toggle({
    name: i18n('Remove the key'),
    description: i18n(
      'On removes the stored key: nothing is sent to an external model.',
    ),
    default: false,
  }),
  apiKey: Value.text({
    name: i18n('Anthropic API key'),
    description: i18n(
      'The key from console.anthropic.com (it starts with sk-ant-). Leave empty to keep the key already stored. It is never shown again.',
    ),
    required: false,
    default: null,
    masked: true,
    placeholder: 'sk-ant-...',
  }),
  model: Value.text({
    name: i18n('Model'),
    description: i18n(
      "The Anthropic model asked; leave empty for the CRM's default.",
    ),
    required: false,
    default: null,
    placeholder: 'claude-sonnet-4-5',
  }),
})

export const setAnthropicApiKey = sdk.Action.withInput(
  'set-anthropic-api-key',

  async () => ({
    name: i18n('Set Anthropic API key'),
    description: i18n(
      "The key for the one external model the CRM may ask (Anthropic's). Every prompt is redacted first: names, addresses, phone numbers and amounts are replaced before it leaves, and the digest never goes there.",
    ),
    warning: null,
    allowedStatuses: 'any',
    group: i18n('Integrations'),
    visibility: 'enabled',
  }),

  inputSpec,

  // The key is never shown back; only the model is.
  async () => {
    const anthropic = await storeJson.read((s) => s.anthropic).once()
    return {
      clear: false,
      apiKey: null,
      model: anthropic?.model || null,
    }
  },

  // A changed store restarts the service with the new CRM_ANTHROPIC_* environment.
  async ({ effects, input }) => {
    const model = input.model?.trim() ?? ''
    if (model) {
      const problem = checkModelName(model)
      if (problem) throw new Error(problem)
    }
    if (input.clear) {
      await storeJson.merge(effects, { anthropic: { apiKey: '', model } })
      return {
        version: '1',
        title: i18n('Anthropic API key removed'),
        message: i18n('Nothing is sent to an external model.'),
        result: null,
      }
    }
    let apiKey = input.apiKey?.trim() ?? ''
    if (apiKey) {
      const problem = checkAnthropicKey(apiKey)
      if (problem) throw new Error(problem)
    } else {
      apiKey = (await storeJson.read((s) => s.anthropic.apiKey).once()) ?? ''
      if (!apiKey) {
        throw new Error(
          i18n('No key is stored yet: paste the Anthropic API key.'),
        )
      }
    }
    await storeJson.merge(effects, { anthropic: { apiKey, model } })
    return {
      version: '1',
      title: i18n('Anthropic API key set'),
      message: i18n(
        'The CRM restarts with the key. Prompts are redacted before they leave; the key is not shown again.',
      ),
      result: null,
    }
  },
)
