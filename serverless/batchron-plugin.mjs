// The Batchron osls plugin: validates `custom.batchron` before anything is bundled and adds
// the schedules, the schedule group and the job definitions it stands for to the compiled
// CloudFormation template (see shared/config/cloudformation.ts).
//
// It is ESM because osls falls back to import() for ESM plugins, and the config code is
// TypeScript, loaded through tsx's tsImport (scoped to these imports, no global hook), so the
// plugin runs exactly the validation `npm start` and `batchron validate` run.
import { tsImport } from 'tsx/esm/api';

const PLACEHOLDER = /placeholder/;
/** The image serverless.yml's examples run (params.default.jobImage): fine offline, refused on deploy. */
export const EXAMPLE_IMAGE = 'public.ecr.aws/docker/library/alpine:3.20';

export default class BatchronPlugin {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.options = options;
    this.log = log;
    this.hooks = {
      // Before esbuild bundles anything: a bad schedule fails in a second, not after a build.
      'before:package:initialize': () => this.validate(),
      // After osls compiled the functions (their logical IDs exist), before the template is written.
      'package:compileEvents': () => this.addResources(),
      'before:deploy:deploy': () => this.checkDeployParams(),
    };
  }

  async modules() {
    this.loaded ??= Promise.all([
      tsImport('../shared/config/validate.ts', import.meta.url),
      tsImport('../shared/config/cloudformation.ts', import.meta.url),
    ]).then(([validate, cloudformation]) => (this.mods = { validate, cloudformation }));
    return this.loaded;
  }

  /** The deployment's names, as serverless.yml's `custom` declares them (after `modules()`). */
  context() {
    const service = this.serverless.service;
    const stage = this.serverless.getProvider('aws').getStage();
    const { validate } = this.mods;
    const { deployment, defaultQueue } = validate.deploymentOf(service.service, stage, service.custom ?? {});
    return validate.deploymentContext(deployment, defaultQueue);
  }

  async validate() {
    const { validate } = await this.modules();
    try {
      this.config = validate.parseConfig(this.serverless.service.custom?.batchron, this.context());
    } catch (error) {
      if (error?.name === 'ConfigError') {
        // serverless.classes.Error is printed as a user error: the message, no stack trace.
        throw new this.serverless.classes.Error(error.message, 'BATCHRON_INVALID_CONFIG');
      }
      throw error;
    }
    this.log?.verbose?.(`batchron: ${Object.keys(this.config.schedules).length} schedules valid`);
  }

  async addResources() {
    if (!this.config) await this.validate();
    const { cloudformation } = await this.modules();
    const custom = this.serverless.service.custom ?? {};
    const { deployment, defaultQueue } = this.context();
    const resources = cloudformation.buildResources(
      this.config,
      cloudformation.templateContext({
        deployment,
        defaultQueue,
        assignPublicIp: custom.network?.assignPublicIp,
        jobLogGroup: custom.jobLogGroup,
        subnets: custom.network?.subnets,
        securityGroupIds: custom.network?.securityGroupIds,
      }),
    );
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const custResources = this.serverless.service.resources?.Resources ?? {};
    for (const [id, resource] of Object.entries(resources)) {
      if (template.Resources[id] || custResources[id]) {
        throw new this.serverless.classes.Error(`batchron: the generated resource ${id} clashes with one already in the template; rename yours`);
      }
      template.Resources[id] = resource;
    }
  }

  checkDeployParams() {
    const values = this.serverless.service.custom?.network ?? {};
    const network = ['subnets', 'securityGroupIds'].filter((name) => PLACEHOLDER.test(String(values[name] ?? '')));
    const problems = [];
    if (network.length > 0) {
      problems.push(
        `set ${network.join(' and ')} for the compute environments, e.g. ` +
          `npx osls deploy --param="subnets=subnet-aaa,subnet-bbb" --param="securityGroupIds=sg-ccc" ` +
          '(or BATCHRON_SUBNETS / BATCHRON_SECURITY_GROUP_IDS)',
      );
    }
    // The example image has none of the jobs' code: a deploy with it would run jobs that fail.
    const definitions = this.serverless.service.custom?.batchron?.jobDefinitions ?? {};
    const example = Object.keys(definitions).filter((key) => definitions[key]?.image === EXAMPLE_IMAGE);
    if (example.length > 0) {
      problems.push(
        `jobDefinitions ${example.join(', ')} use the example image ${EXAMPLE_IMAGE}; build and push your job image ` +
          '(docs/deploy.md: the stack output JobRepositoryUri) and deploy with --param="jobImage=<uri>:<tag>" (or BATCHRON_JOB_IMAGE)',
      );
    }
    if (problems.length > 0) throw new this.serverless.classes.Error(`batchron: ${problems.join('; ')}`, 'BATCHRON_DEPLOY_PARAMS');
  }
}
