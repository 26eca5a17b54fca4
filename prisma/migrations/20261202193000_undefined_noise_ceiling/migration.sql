-- AlterTable
ALTER TABLE "ResponseSet" ADD COLUMN     "nUndefinedCeiling" INTEGER;
