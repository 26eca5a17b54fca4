// Resolver types are generated from the SDL, so a schema change that breaks a resolver fails tsc.
import type { CodegenConfig } from '@graphql-codegen/cli';

const prisma = './prisma/client#';

const config: CodegenConfig = {
  schema: 'src/schema/*.graphql',
  generates: {
    'src/generated/graphql.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        contextType: '../resolvers/context#Context',
        useIndexSignature: false,
        enumsAsTypes: true,
        scalars: { DateTime: 'Date', JSON: 'unknown', BigInt: { input: 'bigint', output: 'bigint | string | number' } },
        mappers: {
          Lab: `${prisma}Lab as DbLab`,
          Dataset: `${prisma}Dataset as DbDataset`,
          Subject: `${prisma}Subject as DbSubject`,
          Roi: `${prisma}Roi as DbRoi`,
          StimulusSet: `${prisma}StimulusSet as DbStimulusSet`,
          Stimulus: `${prisma}Stimulus as DbStimulus`,
          StimulusImage: `${prisma}StimulusImage as DbStimulusImage`,
          StimulusImagesImport: '../domain/stimulus-images#StimulusImagesImportModel',
          Model: `${prisma}Model as DbModel`,
          FeatureSet: `${prisma}FeatureSet as DbFeatureSet`,
          ResponseSet: `${prisma}ResponseSet as DbResponseSet`,
          Artifact: `${prisma}Artifact as DbArtifact`,
          Run: `${prisma}Run as DbRun`,
          Score: `${prisma}Score as DbScore`,
          Benchmark: `${prisma}Benchmark as DbBenchmark`,
          LeaderboardRow: '../domain/leaderboards#LeaderboardRowModel',
          TrustedSite: `${prisma}TrustedSite as DbTrustedSite`,
          ScoreOrigin: '../sites/leaderboard-rows#ImportedRowModel',
          User: `${prisma}User as DbUser`,
          LabMembership: `${prisma}LabMembership as DbLabMembership`,
          ApiToken: `${prisma}ApiToken as DbApiToken`,
          LabInvitation: `${prisma}LabInvitation as DbLabInvitation`,
          Me: '../resolvers/access#MeModel',
          VisibilityChange: '../domain/visibility#VisibilityChangeModel',
          VqaBenchmarkInfo: '../domain/vqa#VqaBenchmarkInfoModel',
          VqaQuestion: '../domain/vqa#VqaQuestionModel',
          ConceptQuery: `${prisma}ConceptQuery as DbConceptQuery`,
          DistractorGroup: `${prisma}DistractorGroup as DbDistractorGroup`,
          CausalTestResult: '../domain/causal#CausalTestResultModel',
          RepresentationalSimilarity: '../domain/representational-similarity#RsaResultModel',
          RsaHeatmaps: '../domain/representational-similarity#RsaHeatmapsModel',
        },
      },
    },
  },
};
export default config;
