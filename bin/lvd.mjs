#!/usr/bin/env node
console.log("hello from lvd", process.argv.slice(2));
