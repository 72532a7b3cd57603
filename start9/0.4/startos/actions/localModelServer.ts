import { utils } from '@start9labs/start-sdk'
import { checkBaseUrl } from '../env'
import { storeJson } from '../fileModels/store.json'
import { i18n } from '../i18n'
import { sdk } from '../sdk'

const { InputSpec, Value } = sdk

export const inputSpec = InputSpec.of({
  baseUrl: Value.text({
    name: i18n('Base URL'),
    description: i18n(
      'The OpenAI-compatible API of the fund\'s own model server ("Spark"), ending where /chat/completions and /embeddings begin. Leave empty to turn summaries off. Digest text never goes anywhere else.',
    ),
    required: false,
    default: null,
    placeholder: 'http://spark.local:8000/v1',
    patterns: [utils.Patterns.url],
  }),
  chatModel: Value.text({
    name: i18n('Chat model'),
    description: i18n("The model that writes the digest's summaries."),
    required: false,
    default: null,
    placeholder: 'llama-3.1-8b-instruct',
  }),
  embedModel: Value.text({
    name: i18n('Embedding model'),
    description: i18n('The model that turns text into vectors for search.'),
    required: false,
    default: null,
    placeholder: 'nomic-embed-text',
  }),
})

export const localModelServer = sdk.Action.withInput(
  'local-model-server',

  async () => ({
    name: i18n('Local model server'),
    description: i18n(
      "Where the CRM finds the fund's local model server (Spark) for digest summaries and embeddings.",
    ),
    warning: null,
    allowedStatuses: 'any',
    group: i18n('Integrations'),
    visibility: 'enabled',
  }),

  inputSpec,

  async () => {
    const spark = (await storeJson.read((s) => s.spark).once()) ?? null
    return {
      baseUrl: spark?.baseUrl || null,
      chatModel: spark?.chatModel || null,
      embedModel: spark?.embedModel || null,
    }
  },

  async ({ effects, input }) => {
    const baseUrl = input.baseUrl?.trim().replace(/\/+$/, '') ?? ''
    if (baseUrl) {
      const problem = checkBaseUrl(baseUrl)
      if (problem) throw new Error(problem)
    }
    await storeJson.merge(effects, {
      spark: {
        baseUrl,
        chatModel: input.chatModel?.trim() ?? '',
        embedModel: input.embedModel?.trim() ?? '',
      },
    })
  },
)
