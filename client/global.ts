/** @module Entry of the script-tag (IIFE) build: `document.currentScript` is only set while this runs. */
import { browser } from './env';
import { install } from './loader';

install(browser, browser.document?.currentScript);
