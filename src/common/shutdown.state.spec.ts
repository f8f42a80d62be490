import { jest } from '@jest/globals';
import { ShutdownState } from './shutdown.state.js';

describe('ShutdownState', () => {
  let sut: ShutdownState;

  beforeEach(() => {
    sut = new ShutdownState();
  });

  it('is not shutting down until begin() is called', () => {
    // Act
    const before = sut.shuttingDown;
    sut.begin();

    // Assert
    expect(before).toBe(false);
    expect(sut.shuttingDown).toBe(true);
  });

  it('calls every onBegin listener once, however often begin() is called', () => {
    // Arrange
    const first = jest.fn();
    const second = jest.fn();
    sut.onBegin(first);
    sut.onBegin(second);

    // Act
    sut.begin();
    sut.begin();

    // Assert
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('calls a listener registered after shutdown began at once', () => {
    // Arrange
    sut.begin();
    const late = jest.fn();

    // Act
    sut.onBegin(late);

    // Assert
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('does not call a listener that unsubscribed', () => {
    // Arrange
    const listener = jest.fn();
    const unsubscribe = sut.onBegin(listener);

    // Act
    unsubscribe();
    sut.begin();

    // Assert
    expect(listener).not.toHaveBeenCalled();
  });
});
