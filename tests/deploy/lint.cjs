#!/usr/bin/env node
// Validates a CloudFormation template with cfn-lint (the npm package), against the current
// CloudFormation resource specification.
//
//   node tests/deploy/lint.cjs TEMPLATE [NAME=VALUE ...]
//
// NAME=VALUE pairs are the template's parameters (a CommaDelimitedList takes "a,b"); the others
// are guessed by cfn-lint. Prints every critical error and warning, one a line, and exits 0 when
// there are none, 1 when there are, 2 when the template cannot be read or parsed.
//
// Why not `cfn-lint validate TEMPLATE`: the last cfn-lint on npm (1.9.7, retired) ships the
// resource specification 2.29.0 of 2019, which lacks AWS::Events::EventBus and properties
// such as Tags of AWS::IAM::Role, so its CLI refuses the template outright ("No such resource
// AWS::Events::EventBus"). cfn-lint reads the specification from one object when it checks a
// resource, so this script puts the resource and property types of the specification that
// @aws-cdk/cfnspec ships (AWS's, version in its spec/specification.json) in place of the old
// ones and then calls cfn-lint's own validateFile: the intrinsic functions, references,
// conditions, outputs and property checks are cfn-lint's, the type data is current.
'use strict';

const path = require('path');

const modules = path.join(__dirname, 'node_modules');
let awsData, spec, cfnLint;
try {
  awsData = require(path.join(modules, 'cfn-lint', 'lib', 'awsData'));
  spec = require(path.join(modules, '@aws-cdk', 'cfnspec', 'spec', 'specification.json'));
  cfnLint = require(path.join(modules, 'cfn-lint'));
} catch (e) {
  console.error(`lint: ${e.message}: run scripts/setup.sh (it installs tests/deploy/node_modules)`);
  process.exit(2);
}
awsData.awsResources.ResourceTypes = spec.ResourceTypes;
awsData.awsResources.PropertyTypes = spec.PropertyTypes;
awsData.awsResources.ResourceSpecificationVersion = spec.ResourceSpecificationVersion;

const [template, ...pairs] = process.argv.slice(2);
if (!template) {
  console.error('usage: node lint.cjs TEMPLATE [NAME=VALUE ...]');
  process.exit(2);
}
const parameters = {};
for (const pair of pairs) {
  const eq = pair.indexOf('=');
  if (eq <= 0) {
    console.error(`lint: not NAME=VALUE: ${pair}`);
    process.exit(2);
  }
  parameters[pair.slice(0, eq)] = pair.slice(eq + 1);
}

let result;
try {
  result = cfnLint.validateFile(template, {parameters});
} catch (e) {
  console.error(`lint: ${template}: ${e.message}`);
  process.exit(2);
}
let count = 0;
for (const level of ['crit', 'warn']) {
  for (const error of result.errors[level]) {
    console.log(`${level}: ${error.resource}: ${error.message}`);
    count++;
  }
}
console.log(`${template}: ${count === 0 ? 'valid' : `${count} problem(s)`} (cfn-lint ` +
            `${require(path.join(modules, 'cfn-lint', 'package.json')).version}, resource ` +
            `specification ${spec.ResourceSpecificationVersion})`);
process.exit(count === 0 ? 0 : 1);
