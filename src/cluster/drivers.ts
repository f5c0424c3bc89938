// Driver registry: the lifecycle asks for a driver by name and gets the
// LabDriver contract; nothing above this file imports a driver directly, and
// nothing above src/cluster decides anything on the name it gets back.
import type { DriverName, LabDriver } from './driver.ts';
import { EnvironmentError } from '../util/errors.ts';

/** Every driver, in the order `down` without a record tries them. */
export const DRIVERS: readonly DriverName[] = ['netns', 'libvirt'];

export async function getDriver(name: string): Promise<LabDriver> {
  switch (name) {
    case 'netns': {
      const { NetnsDriver } = await import('./netns/driver.ts');
      return new NetnsDriver();
    }
    case 'libvirt': {
      const mod = await import('./libvirt/driver.ts').catch(() => undefined);
      if (!mod) throw new EnvironmentError('the libvirt driver is not available in this build');
      return new mod.LibvirtDriver();
    }
  }
  throw new EnvironmentError(`unknown driver "${name}" (${DRIVERS.join(', ')})`);
}
